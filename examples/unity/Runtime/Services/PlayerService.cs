// Gaming Panel Unity example: player stats and inventory, with an offline copy.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace GamingPanel
{
    public sealed class PlayerService
    {
        const string StatsCache = "player_stats";
        const string InventoryCache = "player_inventory";
        readonly GamingPanelClient _client;

        public PlayerService(GamingPanelClient client)
        {
            _client = client;
        }

        /// <summary>GET player/stats; falls back to the saved copy when offline.</summary>
        public Task<Cached<PlayerStats>> GetStatsAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return CachedFetch.GetAsync(_client, "player/stats", StatsCache,
                json => PlayerStats.FromJson(AsObject(json)), cancellationToken);
        }

        /// <summary>GET player/inventory; falls back to the saved copy when offline.</summary>
        public Task<Cached<Inventory>> GetInventoryAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return CachedFetch.GetAsync(_client, "player/inventory", InventoryCache,
                json => Inventory.FromJson(AsObject(json)), cancellationToken);
        }

        /// <summary>The saved inventory without touching the network (e.g. for the first frame of the HUD).</summary>
        public Inventory LoadCachedInventory()
        {
            string body;
            DateTime fetchedAt;
            return _client.Cache.TryLoad(_client.Auth.PlayerId, InventoryCache, out body, out fetchedAt)
                ? Inventory.FromJson(AsObject(Json.Parse(body)))
                : null;
        }

        /// <summary>
        /// Writes balances the server just returned (after a purchase or claim) into the saved inventory, so an
        /// offline restart shows what the server already confirmed.
        /// </summary>
        public void ApplyBalancesToCache(Dictionary<string, long> balances)
        {
            ApplyBalancesToCache(balances, _client.Auth.PlayerId);
        }

        /// <summary>The same for the player the balances are (the one who made the call that returned them).</summary>
        public void ApplyBalancesToCache(Dictionary<string, long> balances, string playerId)
        {
            if (balances == null || balances.Count == 0 || string.IsNullOrEmpty(playerId)) return;
            string body;
            DateTime fetchedAt;
            if (!_client.Cache.TryLoad(playerId, InventoryCache, out body, out fetchedAt)) return;
            Dictionary<string, object> json = Json.ParseObject(body);
            if (json == null) return;
            Dictionary<string, object> currencies = Json.GetObject(json, "currencies") ?? new Dictionary<string, object>();
            foreach (KeyValuePair<string, long> entry in balances) currencies[entry.Key] = entry.Value;
            json["currencies"] = currencies;
            _client.Cache.Save(playerId, InventoryCache, Json.Serialize(json));
        }

        static Dictionary<string, object> AsObject(object json)
        {
            var obj = json as Dictionary<string, object>;
            if (obj == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON object.");
            return obj;
        }
    }
}
