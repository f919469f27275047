// Gaming Panel Unity example: calls a dedicated server (headless Unity build) makes with the game's SERVER key.
//
// The server key is a secret: it can validate any player's token and write match results. It must never be
// in a client build, so this file only compiles for server builds (Build Settings > Dedicated Server, which
// defines UNITY_SERVER) and in the editor, and the key is read at run time from the environment
// (GAMINGPANEL_SERVER_KEY) or the command line (-gamingPanelServerKey <key>), never from an asset.
#if UNITY_SERVER || UNITY_EDITOR || !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel.Server
{
    /// <summary>POST multiplayer/validate-token answer.</summary>
    public sealed class TokenValidation
    {
        public bool Valid;
        /// <summary>Why not valid ("expired", "revoked", "banned"...), when Valid is false.</summary>
        public string Reason;
        public string PlayerId;
        public string GameId;
        public List<string> Permissions = new List<string>();
        public DateTime? ExpiresAtUtc;
        public string DisplayName;
        public long Level;
        public bool Banned;

        /// <summary>Let the player in: a valid token for an unbanned player.</summary>
        public bool MayJoin { get { return Valid && !Banned; } }
    }

    public enum MatchOutcome { Win, Loss, Draw }

    public sealed class MatchPlayerResult
    {
        public string PlayerId;
        public MatchOutcome Outcome;
        public long Score;
        /// <summary>Whole numbers only ("kills": 12): the panel stores match stats as integers.</summary>
        public Dictionary<string, long> Stats = new Dictionary<string, long>();
    }

    public sealed class MatchResult
    {
        /// <summary>Unique per match (a GUID made when the match starts). The server applies a match id once, however often it is sent.</summary>
        public string MatchId;
        /// <summary>Optional; left out when null or empty (the panel then applies only the XP rules for every mode).</summary>
        public string Mode;
        /// <summary>Optional; left out when unset (the panel takes ended_at).</summary>
        public DateTime StartedAtUtc;
        /// <summary>Optional; left out when unset (the panel takes the time it receives the result).</summary>
        public DateTime EndedAtUtc;
        public List<MatchPlayerResult> Players = new List<MatchPlayerResult>();
    }

    /// <summary>POST multiplayer/servers/heartbeat body: what clients see in GET multiplayer/server-info.</summary>
    public sealed class ServerStatus
    {
        public string ServerId;
        public string Region;
        public string Address;
        public int Port;
        public int Capacity;
        public int Players;
        public string Mode;
        public string Version;
    }

    public sealed class GamingPanelServerApi
    {
        public const string ServerKeyEnvironmentVariable = "GAMINGPANEL_SERVER_KEY";
        public const string ServerKeyArgument = "-gamingPanelServerKey";

        readonly IGamingPanelTransport _http;
        readonly string _serverKey;

        public GamingPanelServerApi(string baseUrl, string serverKey, int timeoutSeconds = 10)
            : this(new GamingPanelHttp(baseUrl, timeoutSeconds), serverKey)
        {
        }

        public GamingPanelServerApi(IGamingPanelTransport transport, string serverKey)
        {
            if (string.IsNullOrEmpty(serverKey)) throw new ArgumentException("The server key is empty.");
            _http = transport;
            _serverKey = serverKey;
        }

        /// <summary>Reads the key from GAMINGPANEL_SERVER_KEY or -gamingPanelServerKey; throws when neither is set.</summary>
        public static GamingPanelServerApi FromEnvironment(string baseUrl)
        {
            string key = Environment.GetEnvironmentVariable(ServerKeyEnvironmentVariable);
            string[] args = Environment.GetCommandLineArgs();
            for (int i = 0; i + 1 < args.Length; i++)
            {
                if (string.Equals(args[i], ServerKeyArgument, StringComparison.OrdinalIgnoreCase)) key = args[i + 1];
            }
            if (string.IsNullOrEmpty(key))
                throw new InvalidOperationException("No server key: set " + ServerKeyEnvironmentVariable + " or pass " + ServerKeyArgument + ".");
            return new GamingPanelServerApi(baseUrl, key);
        }

        /// <summary>
        /// Checks the access token a joining client sent (e.g. in its connection payload). A token that is
        /// expired, revoked or for another game comes back Valid = false; only transport problems throw.
        /// </summary>
        public async Task<TokenValidation> ValidateTokenAsync(string playerAccessToken, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (string.IsNullOrEmpty(playerAccessToken)) return new TokenValidation { Valid = false, Reason = "missing_token" };
            var body = new Dictionary<string, object> { { "token", playerAccessToken } };
            HttpResult response = await SendWithRetriesAsync("multiplayer/validate-token", body, 1, cancellationToken);
            Dictionary<string, object> json = response.JsonObject;

            var validation = new TokenValidation
            {
                Valid = Json.GetBool(json, "valid"),
                Reason = Json.GetString(json, "reason"),
                PlayerId = Json.GetString(json, "player_id"),
                GameId = Json.GetString(json, "game_id"),
                ExpiresAtUtc = Json.GetDateTime(json, "expires_at"),
            };
            List<object> permissions = Json.GetArray(json, "permissions");
            if (permissions != null)
            {
                foreach (object permission in permissions)
                {
                    if (permission is string) validation.Permissions.Add((string)permission);
                }
            }
            Dictionary<string, object> player = Json.GetObject(json, "player");
            validation.DisplayName = Json.GetString(player, "display_name");
            validation.Level = Json.GetLong(player, "level");
            validation.Banned = Json.GetBool(player, "banned");
            return validation;
        }

        /// <summary>
        /// POST multiplayer/match-result. Retried on network errors, 429 and 5xx with the same match id, which
        /// the server applies once. If it still fails, keep the result (e.g. write it to disk) and send it later.
        /// </summary>
        public async Task PostMatchResultAsync(MatchResult match, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (string.IsNullOrEmpty(match.MatchId)) throw new ArgumentException("MatchId is required.");
            var players = new List<object>();
            foreach (MatchPlayerResult player in match.Players)
            {
                players.Add(new Dictionary<string, object>
                {
                    { "player_id", Json.IdValue(player.PlayerId) },
                    { "outcome", player.Outcome.ToString().ToLowerInvariant() },
                    { "score", player.Score },
                    { "stats", player.Stats },
                });
            }
            var body = new Dictionary<string, object>
            {
                { "match_id", match.MatchId },
                { "players", players },
            };
            // Only match_id and players are required; the panel refuses a null or blank mode, and an unset
            // DateTime would be sent as 0001-01-01.
            if (!string.IsNullOrEmpty(match.Mode)) body["mode"] = match.Mode;
            if (match.StartedAtUtc != default(DateTime)) body["started_at"] = match.StartedAtUtc;
            if (match.EndedAtUtc != default(DateTime)) body["ended_at"] = match.EndedAtUtc;
            await SendWithRetriesAsync("multiplayer/match-result", body, 4, cancellationToken);
        }

        /// <summary>
        /// POST leaderboards/{slug}/scores: a player's score. Retried on network errors, 429 and 5xx with the same
        /// submission id, which the server records once (a retry answers 200 with "replayed": true).
        /// </summary>
        public async Task<ScoreSubmission> SubmitScoreAsync(string slug, string submissionId, string playerId, long score, Dictionary<string, object> metadata = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (string.IsNullOrEmpty(submissionId)) throw new ArgumentException("submissionId is required.");
            var body = new Dictionary<string, object>
            {
                { "submission_id", submissionId },
                { "player_id", Json.IdValue(playerId) },
                { "score", score },
            };
            if (metadata != null) body["metadata"] = metadata;
            HttpResult response = await SendWithRetriesAsync("leaderboards/" + Uri.EscapeDataString(slug) + "/scores", body, 4, cancellationToken);
            return ScoreSubmission.FromJson(response.Json as Dictionary<string, object> ?? new Dictionary<string, object>());
        }

        /// <summary>POST multiplayer/servers/heartbeat. Send every 15-30 s; a server that stops is dropped from the list.</summary>
        public Task SendHeartbeatAsync(ServerStatus status, CancellationToken cancellationToken = default(CancellationToken))
        {
            var body = new Dictionary<string, object>
            {
                { "server_id", status.ServerId },
                { "region", status.Region },
                { "address", status.Address },
                { "port", status.Port },
                { "capacity", status.Capacity },
                { "players", status.Players },
            };
            // Optional (default ""): the panel refuses null.
            if (status.Mode != null) body["mode"] = status.Mode;
            if (status.Version != null) body["version"] = status.Version;
            return SendWithRetriesAsync("multiplayer/servers/heartbeat", body, 0, cancellationToken);
        }

        async Task<HttpResult> SendWithRetriesAsync(string path, object body, int retries, CancellationToken cancellationToken)
        {
            var headers = new Dictionary<string, string> { { "X-Server-Key", _serverKey } };
            for (int attempt = 0; ; attempt++)
            {
                ApiError failure;
                try
                {
                    return await _http.SendAsync("POST", path, body, headers, cancellationToken);
                }
                catch (ApiError error)
                {
                    failure = error;
                }
                if (!failure.IsTransient || attempt >= retries) throw failure;
                float delay = failure.RetryAfterSeconds.HasValue ? failure.RetryAfterSeconds.Value : (float)Math.Pow(2, attempt + 1);
                Debug.LogWarning("[GamingPanel] " + path + " failed (" + failure.Code + "); retrying in " + delay + " s.");
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(delay, 60f)), cancellationToken);
            }
        }
    }
}
#endif
