// Gaming Panel Unity example: live events, reward claims and the battle pass.
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace GamingPanel
{
    public sealed class EventsService
    {
        readonly GamingPanelClient _client;

        public EventsService(GamingPanelClient client)
        {
            _client = client;
        }

        /// <summary>GET events/active: running events with this player's progress (cached when offline).</summary>
        public Task<Cached<List<GameEvent>>> GetActiveAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return CachedFetch.GetAsync(_client, "events/active", "events_active", json =>
            {
                var array = json as List<object>;
                if (array == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON array.");
                return GameEvent.ListFromJson(array);
            }, cancellationToken);
        }

        /// <summary>
        /// POST events/claim-reward. The server grants each reward once per player, so the call is retried
        /// safely; a 409 already_claimed (e.g. the first response was lost) is reported as AlreadyClaimed,
        /// not thrown. Re-read the inventory afterwards.
        /// </summary>
        public async Task<ClaimResult> ClaimRewardAsync(string eventId, string rewardId, CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = new Dictionary<string, object>
            {
                { "event_id", Json.IdValue(eventId) },
                { "reward_id", Json.IdValue(rewardId) },
            };
            try
            {
                HttpResult response = await _client.SendAuthorizedAsync("POST", "events/claim-reward", body, null, true, cancellationToken);
                return new ClaimResult { Raw = response.Json as Dictionary<string, object> };
            }
            catch (ApiError error)
            {
                if (error.Code != ErrorCodes.AlreadyClaimed) throw;
                return new ClaimResult { AlreadyClaimed = true, Raw = error.Problem };
            }
        }

        /// <summary>GET battlepass/progress (cached when offline).</summary>
        public Task<Cached<BattlePassProgress>> GetBattlePassAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return CachedFetch.GetAsync(_client, "battlepass/progress", "battlepass_progress", json =>
            {
                var obj = json as Dictionary<string, object>;
                if (obj == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON object.");
                return BattlePassProgress.FromJson(obj);
            }, cancellationToken);
        }
    }
}
