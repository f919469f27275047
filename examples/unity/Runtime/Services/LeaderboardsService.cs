// Gaming Panel Unity example: leaderboards (the top, the player's rank and neighbours, closed periods).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace GamingPanel
{
    public sealed class LeaderboardsService
    {
        readonly GamingPanelClient _client;

        public LeaderboardsService(GamingPanelClient client)
        {
            _client = client;
        }

        /// <summary>GET leaderboards: the game's boards with the open period's end (cached when offline).</summary>
        public Task<Cached<List<Leaderboard>>> GetBoardsAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return CachedFetch.GetAsync(_client, "leaderboards", "leaderboards", json =>
            {
                var array = json as List<object>;
                if (array == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON array.");
                return Leaderboard.ListFromJson(array);
            }, cancellationToken);
        }

        /// <summary>GET leaderboards/{slug}?limit&amp;cursor: the top of the open period; pass page.Next for the next page.</summary>
        public Task<LeaderboardPage> GetTopAsync(string slug, int limit = 10, string cursor = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            string path = "leaderboards/" + Uri.EscapeDataString(slug) + "?limit=" + limit;
            if (!string.IsNullOrEmpty(cursor)) path += "&cursor=" + Uri.EscapeDataString(cursor);
            return GetPageAsync(path, cancellationToken);
        }

        /// <summary>GET leaderboards/{slug}/around-me?radius: the player's entry (null without a score) and its neighbours.</summary>
        public Task<LeaderboardPage> GetAroundMeAsync(string slug, int radius = 5, CancellationToken cancellationToken = default(CancellationToken))
        {
            return GetPageAsync("leaderboards/" + Uri.EscapeDataString(slug) + "/around-me?radius=" + radius, cancellationToken);
        }

        /// <summary>GET leaderboards/{slug}/players/{playerId}: a given player's entry and rank (Entry null without a score).</summary>
        public Task<LeaderboardPage> GetPlayerRankAsync(string slug, string playerId, CancellationToken cancellationToken = default(CancellationToken))
        {
            return GetPageAsync("leaderboards/" + Uri.EscapeDataString(slug) + "/players/" + Uri.EscapeDataString(playerId), cancellationToken);
        }

        /// <summary>
        /// GET leaderboards/{slug}/periods?limit&amp;before: the board's closed periods, latest first; for the page
        /// after, pass the last period's Number as before.
        /// </summary>
        public async Task<List<LeaderboardPeriod>> GetPeriodsAsync(string slug, int limit = 100, long? before = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            string path = "leaderboards/" + Uri.EscapeDataString(slug) + "/periods?limit=" + limit;
            if (before.HasValue) path += "&before=" + before.Value;
            HttpResult response = await _client.SendAuthorizedAsync("GET", path, null, null, true, cancellationToken);
            var array = response.Json as List<object>;
            if (array == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON array.");
            var periods = new List<LeaderboardPeriod>();
            foreach (object item in array) periods.Add(LeaderboardPeriod.FromJson(item as Dictionary<string, object>));
            return periods;
        }

        /// <summary>GET leaderboards/{slug}/periods/{number}: a closed period's final standings.</summary>
        public Task<LeaderboardPage> GetStandingsAsync(string slug, long period, int limit = 10, string cursor = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            string path = "leaderboards/" + Uri.EscapeDataString(slug) + "/periods/" + period + "?limit=" + limit;
            if (!string.IsNullOrEmpty(cursor)) path += "&cursor=" + Uri.EscapeDataString(cursor);
            return GetPageAsync(path, cancellationToken);
        }

        /// <summary>
        /// POST leaderboards/{slug}/my-score: the player's own score, only where the board allows client
        /// submissions (else 403 client_submissions_not_allowed: submit from the game server). Reuse the same
        /// submissionId when retrying: the server records it once.
        /// </summary>
        public async Task<ScoreSubmission> SubmitMyScoreAsync(string slug, string submissionId, long score, Dictionary<string, object> metadata = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = new Dictionary<string, object> { { "submission_id", submissionId }, { "score", score } };
            if (metadata != null) body["metadata"] = metadata;
            HttpResult response = await _client.SendAuthorizedAsync("POST", "leaderboards/" + Uri.EscapeDataString(slug) + "/my-score", body, null, true, cancellationToken);
            return ScoreSubmission.FromJson(Expect(response.Json));
        }

        async Task<LeaderboardPage> GetPageAsync(string path, CancellationToken cancellationToken)
        {
            HttpResult response = await _client.SendAuthorizedAsync("GET", path, null, null, true, cancellationToken);
            return LeaderboardPage.FromJson(Expect(response.Json));
        }

        static Dictionary<string, object> Expect(object json)
        {
            var obj = json as Dictionary<string, object>;
            if (obj == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON object.");
            return obj;
        }
    }
}
