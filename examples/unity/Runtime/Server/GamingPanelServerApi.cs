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

        /// <summary>
        /// The longest wait before an automatic retry: a longer Retry-After ends the call with the ApiError (its
        /// RetryAfterSeconds says when to try again), so nothing is sent again sooner than the panel asked.
        /// </summary>
        public const float MaxRetryWaitSeconds = 60f;

        readonly IGamingPanelTransport _http;
        readonly string _serverKey;
        readonly Func<TimeSpan, CancellationToken, Task> _delay;

        public GamingPanelServerApi(string baseUrl, string serverKey, int timeoutSeconds = 10)
            : this(new GamingPanelHttp(baseUrl, timeoutSeconds), serverKey)
        {
        }

        /// <param name="delay">How to wait before a retry (Task.Delay by default; tests pass a fake clock).</param>
        public GamingPanelServerApi(IGamingPanelTransport transport, string serverKey, Func<TimeSpan, CancellationToken, Task> delay = null)
        {
            if (string.IsNullOrEmpty(serverKey)) throw new ArgumentException("The server key is empty.");
            _http = transport;
            _serverKey = serverKey;
            _delay = delay ?? ((wait, ct) => Task.Delay(wait, ct));
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
        /// the server applies once, after the answer's Retry-After (a longer one than MaxRetryWaitSeconds ends the
        /// call with the ApiError at once). If it still fails, keep the result (e.g. write it to disk) and send it
        /// later, no sooner than the error's RetryAfterSeconds.
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
        /// submission id, which the server records once for LEADERBOARD_SUBMISSION_RETENTION_DAYS (30 by default; a retry
        /// answers 200 with "replayed": true). The same id sent after that is a new score: do not resend older ones.
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

        /// <summary>
        /// POST multiplayer/servers/heartbeat, sent once (no retry here: <see cref="ServerHeartbeat"/> keeps a server
        /// listed, beating at a third of the answer and again soon after a failed beat, never sooner than its
        /// Retry-After). Answers the panel's ttl_seconds (0 when the answer has none): a server that does not beat
        /// within it is no longer listed.
        /// Throws ApiError; 409 too_many_servers (with "limit" in Problem) means the game has as many live servers as
        /// it may, and this one is not listed until a place frees.
        /// </summary>
        public async Task<int> SendHeartbeatAsync(ServerStatus status, CancellationToken cancellationToken = default(CancellationToken))
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
            HttpResult response = await SendWithRetriesAsync("multiplayer/servers/heartbeat", body, 0, cancellationToken);
            Dictionary<string, object> json;
            try { json = response.Json as Dictionary<string, object>; }
            catch (ApiError) { json = null; } // an answer that is not JSON: no ttl to go by
            return (int)Math.Max(0, Math.Min(int.MaxValue, Json.GetLong(json, "ttl_seconds")));
        }

        /// <summary>
        /// POST multiplayer/servers/deregister (204): off the list at once, so a stopped server holds no place for
        /// ttl_seconds. Call it on shutdown (<see cref="ServerHeartbeat.StopAsync"/> does). Retried on network
        /// errors, 429 and 5xx.
        /// </summary>
        public Task DeregisterAsync(string serverId, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (string.IsNullOrEmpty(serverId)) throw new ArgumentException("serverId is required.");
            var body = new Dictionary<string, object> { { "server_id", serverId } };
            return SendWithRetriesAsync("multiplayer/servers/deregister", body, 2, cancellationToken);
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
                // A Retry-After is waited in full: sent sooner, the request would only be refused again.
                float delay = failure.RetryAfterSeconds.HasValue ? failure.RetryAfterSeconds.Value : (float)Math.Pow(2, attempt + 1);
                if (delay > MaxRetryWaitSeconds)
                {
                    Debug.LogWarning("[GamingPanel] " + path + " failed (" + failure.Code + "); the panel asks to wait " + delay + " s: not retried now.");
                    throw failure;
                }
                Debug.LogWarning("[GamingPanel] " + path + " failed (" + failure.Code + "); retrying in " + delay + " s.");
                await _delay(TimeSpan.FromSeconds(delay), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Keeps a server on the panel's list: beats now, then every third of the ttl_seconds the panel answers (10 s
    /// until its first answer); a failed beat is sent again after 2 s, once, so that one lost beat does not drop the
    /// server; 409 too_many_servers (the game is at its live-server limit) raises <see cref="TooManyServers"/> and
    /// the beats go on with backoff (up to a minute apart), since a place frees when another server stops. A failed
    /// beat is never sent again sooner than its answer's Retry-After (429, 503).
    /// <see cref="StopAsync"/> stops beating and deregisters: call it on shutdown.
    /// </summary>
    public sealed class ServerHeartbeat
    {
        public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);
        public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
        public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);
        public const string TooManyServersCode = "too_many_servers";

        readonly GamingPanelServerApi _api;
        readonly Func<ServerStatus> _status;
        readonly Func<TimeSpan, CancellationToken, Task> _delay;
        CancellationTokenSource _stop;
        Task _loop;
        string _registeredId;
        TimeSpan _interval = DefaultInterval;

        /// <param name="status">Read before each beat, so the list shows the current player count.</param>
        /// <param name="delay">How to wait (Task.Delay by default; tests pass a fake clock).</param>
        public ServerHeartbeat(GamingPanelServerApi api, Func<ServerStatus> status, Func<TimeSpan, CancellationToken, Task> delay = null)
        {
            if (api == null) throw new ArgumentNullException("api");
            if (status == null) throw new ArgumentNullException("status");
            _api = api;
            _status = status;
            _delay = delay ?? ((wait, ct) => Task.Delay(wait, ct));
        }

        /// <summary>The time between beats: a third of the panel's ttl_seconds, DefaultInterval before it answered.</summary>
        public TimeSpan Interval { get { return _interval; } }

        /// <summary>Whether the last beat went through (the server is on the list).</summary>
        public bool Listed { get; private set; }

        /// <summary>The game's live-server limit from the last 409 too_many_servers, or null.</summary>
        public long? Limit { get; private set; }

        /// <summary>409 too_many_servers: this server is not listed; it keeps beating with backoff. Limit says the game's maximum.</summary>
        public event Action<ApiError> TooManyServers;

        /// <summary>Any other failed beat (network, 5xx, a refused key...): sent again after RetryDelay, then at the interval (never sooner than its Retry-After).</summary>
        public event Action<ApiError> BeatFailed;

        /// <summary>Starts beating (once; a second call does nothing while it runs).</summary>
        public void Start()
        {
            if (_loop != null) return;
            _stop = new CancellationTokenSource();
            _loop = RunAsync(_stop.Token);
        }

        /// <summary>Stops beating, waits for a beat in flight, then deregisters the server if a beat had listed it.</summary>
        public async Task StopAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (_loop != null)
            {
                _stop.Cancel();
                try { await _loop; }
                catch (OperationCanceledException) { }
                _loop = null;
            }
            string serverId = _registeredId;
            _registeredId = null;
            Listed = false;
            if (serverId != null) await _api.DeregisterAsync(serverId, cancellationToken);
        }

        async Task RunAsync(CancellationToken cancellationToken)
        {
            bool failedBefore = false;
            TimeSpan backoff = TimeSpan.Zero;
            while (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan wait;
                ServerStatus status = _status();
                try
                {
                    int ttl = await _api.SendHeartbeatAsync(status, cancellationToken);
                    _registeredId = status.ServerId;
                    Listed = true;
                    failedBefore = false;
                    backoff = TimeSpan.Zero;
                    if (ttl > 0) _interval = TimeSpan.FromSeconds(Math.Max(1.0, ttl / 3.0));
                    wait = _interval;
                }
                catch (OperationCanceledException)
                {
                    if (cancellationToken.IsCancellationRequested) return;
                    wait = RetryDelay;
                }
                catch (ApiError error)
                {
                    if (error.Status == 409 && error.Code == TooManyServersCode)
                    {
                        Listed = false;
                        long limit = Json.GetLong(error.Problem, "limit");
                        Limit = limit > 0 ? limit : (long?)null;
                        backoff = backoff == TimeSpan.Zero ? _interval : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                        wait = AtLeastRetryAfter(backoff, error);
                        Debug.LogWarning("[GamingPanel] Not listed: the game already has " + (Limit.HasValue ? Limit.Value.ToString() : "its most") +
                            " live servers (too_many_servers); beating again in " + wait.TotalSeconds + " s.");
                        Raise(TooManyServers, error);
                    }
                    else
                    {
                        // Sent again soon, once: a single lost beat must not take the server off the list.
                        wait = AtLeastRetryAfter(failedBefore ? _interval : RetryDelay, error);
                        failedBefore = true;
                        Debug.LogWarning("[GamingPanel] Heartbeat failed (" + error.Code + "); beating again in " + wait.TotalSeconds + " s.");
                        Raise(BeatFailed, error);
                    }
                }
                try { await _delay(wait, cancellationToken); }
                catch (OperationCanceledException) { return; }
            }
        }

        /// <summary>The wait, or the answer's Retry-After when that is longer: the panel asked for that much quiet.</summary>
        static TimeSpan AtLeastRetryAfter(TimeSpan wait, ApiError error)
        {
            if (!error.RetryAfterSeconds.HasValue) return wait;
            TimeSpan asked = TimeSpan.FromSeconds(error.RetryAfterSeconds.Value);
            return asked > wait ? asked : wait;
        }

        static void Raise(Action<ApiError> handler, ApiError error)
        {
            if (handler == null) return;
            try { handler(error); }
            catch (Exception e) { Debug.LogError("[GamingPanel] A heartbeat event handler threw: " + e); }
        }
    }
}
#endif
