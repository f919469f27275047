// Gaming Panel Unity example: player stats and inventory, read from the API's JSON.
using System;
using System.Collections.Generic;

namespace GamingPanel
{
    /// <summary>A value from the server or, when offline, from the last good copy on disk.</summary>
    public sealed class Cached<T>
    {
        public T Value;
        /// <summary>True when the server could not be reached and Value is the last saved copy.</summary>
        public bool FromCache;
        public DateTime FetchedAtUtc;
        /// <summary>Why the cache was used (null when FromCache is false).</summary>
        public ApiError Error;
    }

    /// <summary>GET player/stats</summary>
    public sealed class PlayerStats
    {
        public string PlayerId;
        public long Level;
        public long Xp;
        public long XpToNextLevel;
        /// <summary>Game-defined counters ("kills", "wins", "best_lap_ms"...). Numbers may be whole or fractional.</summary>
        public Dictionary<string, double> Stats = new Dictionary<string, double>();

        public double Stat(string key, double fallback = 0)
        {
            double value;
            return Stats.TryGetValue(key, out value) ? value : fallback;
        }

        public static PlayerStats FromJson(Dictionary<string, object> json)
        {
            var stats = new PlayerStats
            {
                PlayerId = Json.GetString(json, "player_id"),
                Level = Json.GetLong(json, "level"),
                Xp = Json.GetLong(json, "xp"),
                XpToNextLevel = Json.GetLong(json, "xp_to_next_level"),
            };
            Dictionary<string, object> values = Json.GetObject(json, "stats");
            if (values != null)
            {
                foreach (KeyValuePair<string, object> entry in values) stats.Stats[entry.Key] = Json.ToDouble(entry.Value);
            }
            return stats;
        }
    }

    public sealed class InventoryItem
    {
        public string Sku;
        public string Name;
        public long Quantity;
        /// <summary>Any further fields the server sends (rarity, icon, attributes...).</summary>
        public Dictionary<string, object> Extra = new Dictionary<string, object>();
    }

    /// <summary>GET player/inventory</summary>
    public sealed class Inventory
    {
        /// <summary>Balance per currency code ("gold", "gems"). Whole numbers only: the API never uses floats for money.</summary>
        public Dictionary<string, long> Currencies = new Dictionary<string, long>();
        public List<InventoryItem> Items = new List<InventoryItem>();

        public long Balance(string currency)
        {
            long value;
            return Currencies.TryGetValue(currency, out value) ? value : 0;
        }

        public long QuantityOf(string sku)
        {
            foreach (InventoryItem item in Items)
            {
                if (item.Sku == sku) return item.Quantity;
            }
            return 0;
        }

        public static Inventory FromJson(Dictionary<string, object> json)
        {
            var inventory = new Inventory();
            Dictionary<string, object> currencies = Json.GetObject(json, "currencies");
            if (currencies != null)
            {
                foreach (KeyValuePair<string, object> entry in currencies) inventory.Currencies[entry.Key] = Json.ToLong(entry.Value);
            }
            List<object> items = Json.GetArray(json, "items");
            if (items != null)
            {
                foreach (object raw in items)
                {
                    var item = raw as Dictionary<string, object>;
                    if (item == null) continue;
                    var parsed = new InventoryItem
                    {
                        Sku = Json.GetString(item, "sku"),
                        Name = Json.GetString(item, "name"),
                        Quantity = Json.GetLong(item, "quantity"),
                    };
                    foreach (KeyValuePair<string, object> entry in item)
                    {
                        if (entry.Key != "sku" && entry.Key != "name" && entry.Key != "quantity") parsed.Extra[entry.Key] = entry.Value;
                    }
                    inventory.Items.Add(parsed);
                }
            }
            return inventory;
        }
    }
}
