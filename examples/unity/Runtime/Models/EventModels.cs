// Gaming Panel Unity example: live events and the battle pass.
using System;
using System.Collections.Generic;

namespace GamingPanel
{
    public sealed class EventReward
    {
        public string Id;
        public Dictionary<string, object> Requirement;
        public double Progress;
        public bool Claimable;
        public bool Claimed;
        /// <summary>What claiming gives, as the server describes it (e.g. {"currency": "gold", "quantity": 100}).</summary>
        public Dictionary<string, object> Grant;
    }

    /// <summary>GET events/active: one running event with this player's progress.</summary>
    public sealed class GameEvent
    {
        public string Id;
        public string Name;
        public DateTime? StartsAtUtc;
        public DateTime? EndsAtUtc;
        public List<EventReward> Rewards = new List<EventReward>();

        public static List<GameEvent> ListFromJson(List<object> json)
        {
            var events = new List<GameEvent>();
            foreach (object raw in json)
            {
                var item = raw as Dictionary<string, object>;
                if (item == null) continue;
                var parsed = new GameEvent
                {
                    Id = Json.GetString(item, "id"),
                    Name = Json.GetString(item, "name"),
                    StartsAtUtc = Json.GetDateTime(item, "starts_at"),
                    EndsAtUtc = Json.GetDateTime(item, "ends_at"),
                };
                List<object> rewards = Json.GetArray(item, "rewards");
                if (rewards != null)
                {
                    foreach (object rawReward in rewards)
                    {
                        var reward = rawReward as Dictionary<string, object>;
                        if (reward == null) continue;
                        parsed.Rewards.Add(new EventReward
                        {
                            Id = Json.GetString(reward, "id"),
                            Requirement = Json.GetObject(reward, "requirement"),
                            Progress = Json.GetDouble(reward, "progress"),
                            Claimable = Json.GetBool(reward, "claimable"),
                            Claimed = Json.GetBool(reward, "claimed"),
                            Grant = Json.GetObject(reward, "grant"),
                        });
                    }
                }
                events.Add(parsed);
            }
            return events;
        }
    }

    public sealed class ClaimResult
    {
        /// <summary>True when the server answered 409 already_claimed: the reward was granted earlier (maybe by a lost response).</summary>
        public bool AlreadyClaimed;
        public Dictionary<string, object> Raw;
    }

    /// <summary>GET battlepass/progress. Main fields typed; tiers kept as JSON objects for your UI to read.</summary>
    public sealed class BattlePassProgress
    {
        public string SeasonId;
        public string SeasonName;
        public long Xp;
        public long Tier;
        public bool Premium;
        public List<Dictionary<string, object>> Tiers = new List<Dictionary<string, object>>();
        public Dictionary<string, object> Raw;

        public static BattlePassProgress FromJson(Dictionary<string, object> json)
        {
            var progress = new BattlePassProgress
            {
                Xp = Json.GetLong(json, "xp"),
                Tier = Json.GetLong(json, "tier"),
                Premium = Json.GetBool(json, "premium"),
                Raw = json,
            };
            Dictionary<string, object> season = Json.GetObject(json, "season");
            if (season != null)
            {
                progress.SeasonId = Json.GetString(season, "id");
                progress.SeasonName = Json.GetString(season, "name");
            }
            else
            {
                progress.SeasonId = Json.GetString(json, "season");
            }
            List<object> tiers = Json.GetArray(json, "tiers");
            if (tiers != null)
            {
                foreach (object tier in tiers)
                {
                    var tierJson = tier as Dictionary<string, object>;
                    if (tierJson != null) progress.Tiers.Add(tierJson);
                }
            }
            return progress;
        }
    }
}
