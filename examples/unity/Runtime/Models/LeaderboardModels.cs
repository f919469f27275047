// Gaming Panel Unity example: leaderboards (boards, standings, the player's rank).
using System;
using System.Collections.Generic;

namespace GamingPanel
{
    /// <summary>A board's period: Number counts from 1; EndsAtUtc is null when the board never resets.</summary>
    public sealed class LeaderboardPeriod
    {
        public long Number;
        public DateTime? StartsAtUtc;
        public DateTime? EndsAtUtc;
        public string State;

        public static LeaderboardPeriod FromJson(Dictionary<string, object> json)
        {
            if (json == null) return null;
            return new LeaderboardPeriod
            {
                Number = Json.GetLong(json, "number"),
                StartsAtUtc = Json.GetDateTime(json, "starts_at"),
                EndsAtUtc = Json.GetDateTime(json, "ends_at"),
                State = Json.GetString(json, "state"),
            };
        }
    }

    /// <summary>GET leaderboards: one of the game's boards. PeriodEndsAtUtc is the next reset (null: never).</summary>
    public sealed class Leaderboard
    {
        public string Slug;
        public string Name;
        public string Order;
        public string Reset;
        public bool ClientSubmissions;
        public LeaderboardPeriod Period;
        public DateTime? PeriodEndsAtUtc;

        public static List<Leaderboard> ListFromJson(List<object> json)
        {
            var boards = new List<Leaderboard>();
            foreach (object raw in json)
            {
                var item = raw as Dictionary<string, object>;
                if (item == null) continue;
                boards.Add(new Leaderboard
                {
                    Slug = Json.GetString(item, "slug"),
                    Name = Json.GetString(item, "name"),
                    Order = Json.GetString(item, "order"),
                    Reset = Json.GetString(item, "reset"),
                    ClientSubmissions = Json.GetBool(item, "client_submissions"),
                    Period = LeaderboardPeriod.FromJson(Json.GetObject(item, "period")),
                    PeriodEndsAtUtc = Json.GetDateTime(item, "period_ends_at"),
                });
            }
            return boards;
        }
    }

    /// <summary>One ranked entry: rank 1 is the best; ties go to whoever reached the score first.</summary>
    public sealed class LeaderboardEntry
    {
        public long Rank;
        public string PlayerId;
        public string DisplayName;
        public long Score;
        public Dictionary<string, object> Metadata;

        public static LeaderboardEntry FromJson(Dictionary<string, object> json)
        {
            if (json == null) return null;
            return new LeaderboardEntry
            {
                Rank = Json.GetLong(json, "rank"),
                PlayerId = Json.GetString(json, "player_id"),
                DisplayName = Json.GetString(json, "display_name"),
                Score = Json.GetLong(json, "score"),
                Metadata = Json.GetObject(json, "metadata") ?? new Dictionary<string, object>(),
            };
        }

        public static List<LeaderboardEntry> ListFromJson(List<object> json)
        {
            var entries = new List<LeaderboardEntry>();
            if (json == null) return entries;
            foreach (object raw in json)
            {
                LeaderboardEntry entry = FromJson(raw as Dictionary<string, object>);
                if (entry != null) entries.Add(entry);
            }
            return entries;
        }
    }

    /// <summary>
    /// A page of standings (top of the open period, or a closed period's final standings), or the entries
    /// around the player. Entry is the player's own (around-me and a given player's rank; null without a score).
    /// Next is the cursor of the following page (null on the last page).
    /// </summary>
    public sealed class LeaderboardPage
    {
        public string Board;
        public LeaderboardPeriod Period;
        public LeaderboardEntry Entry;
        public List<LeaderboardEntry> Results = new List<LeaderboardEntry>();
        public string Next;

        public static LeaderboardPage FromJson(Dictionary<string, object> json)
        {
            return new LeaderboardPage
            {
                Board = Json.GetString(json, "board"),
                Period = LeaderboardPeriod.FromJson(Json.GetObject(json, "period")),
                Entry = LeaderboardEntry.FromJson(Json.GetObject(json, "entry")),
                Results = LeaderboardEntry.ListFromJson(Json.GetArray(json, "results")),
                Next = Json.GetString(json, "next"),
            };
        }
    }

    /// <summary>The answer to a score submission: Score is the entry's after it; Replayed when the id was seen before.</summary>
    public sealed class ScoreSubmission
    {
        public string SubmissionId;
        public long Period;
        public long Submitted;
        public long Score;
        public bool Improved;
        public bool Replayed;

        public static ScoreSubmission FromJson(Dictionary<string, object> json)
        {
            return new ScoreSubmission
            {
                SubmissionId = Json.GetString(json, "submission_id"),
                Period = Json.GetLong(json, "period"),
                Submitted = Json.GetLong(json, "submitted"),
                Score = Json.GetLong(json, "score"),
                Improved = Json.GetBool(json, "improved"),
                Replayed = Json.GetBool(json, "replayed"),
            };
        }
    }
}
