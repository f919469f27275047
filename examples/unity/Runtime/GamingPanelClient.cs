// Gaming Panel Unity example: the entry point a game holds on to.
//
//   var client = new GamingPanelClient(config);
//   if (!client.Auth.HasSession) await client.LoginAsync(new SteamCredentialProvider());
//   Cached<PlayerStats> stats = await client.Player.GetStatsAsync();
//
// Every authorised call goes through SendAuthorizedAsync, which
//   - gets a fresh access token from TokenManager (refreshing shortly before expiry),
//   - on 401 token_expired / token_revoked / invalid_token refreshes (or logs in again) and retries the call exactly once,
//   - for requests that are safe to repeat (GET, keyed purchase, claim) retries 429 / 5xx / network errors a
//     few times, honouring Retry-After, with the *same* body and headers (so the same Idempotency-Key), except
//     a keyed request answered 503 payment_provider_unavailable: that key's answer is final (ApiError.EndsPurchaseAttempt),
//   - given the player a call belongs to, sends every attempt (retries and the one after a renewal included) with
//     that player's session only: when another player (or nobody) is logged in by then, it stops with 401 not_logged_in,
//   - while a DELETE of that player's account is unconfirmed (AccountService), resends it first: once the panel
//     confirms it, the player is wiped and the call ends with 401 not_logged_in.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    public sealed class GamingPanelClient
    {
        /// <summary>
        /// The longest Retry-After a player call (and a token refresh) waits before its automatic retry: a longer one
        /// gives the ApiError to the game at once (its RetryAfterSeconds says when to try again) instead of stalling it.
        /// </summary>
        public const float MaxRetryAfterSeconds = 30f;

        readonly IGamingPanelTransport _http;
        readonly int _maxTransientRetries;

        /// <param name="storage">Where the session is kept; PlayerPrefs when null (see PlayerPrefsTokenStorage about secure storage).</param>
        /// <param name="transport">The HTTP stack; UnityWebRequest when null.</param>
        /// <param name="cache">The offline copy; Application.persistentDataPath/GamingPanelCache when null.</param>
        public GamingPanelClient(GamingPanelConfig config, ITokenStorage storage = null,
            IGamingPanelTransport transport = null, LocalCache cache = null)
        {
            if (config == null) throw new ArgumentNullException("config");
            Config = config;
            Clock = new PanelClock();
            // Every answer, the login's included, tells the panel's clock (its Date header): see PanelClock.
            _http = new PanelClock.LearningTransport(transport ?? new GamingPanelHttp(config.baseUrl, config.requestTimeoutSeconds), Clock);
            _maxTransientRetries = Math.Max(0, config.maxTransientRetries);
            Auth = new TokenManager(_http, storage ?? new PlayerPrefsTokenStorage(config.gameKey), config.gameKey,
                TimeSpan.FromSeconds(config.refreshMarginSeconds));
            Cache = cache ?? new LocalCache();
            Player = new PlayerService(this);
            Shop = new ShopService(this);
            Events = new EventsService(this);
            Leaderboards = new LeaderboardsService(this);
            CloudSaves = new CloudSaveService(this);
            RemoteConfig = new RemoteConfigService(this);
            Analytics = new AnalyticsService(this);
            Account = new AccountService(this);
        }

        public GamingPanelConfig Config { get; private set; }
        /// <summary>The panel's clock, learned from its answers (analytics events are stamped with it).</summary>
        public PanelClock Clock { get; private set; }
        public TokenManager Auth { get; private set; }
        public LocalCache Cache { get; private set; }
        public PlayerService Player { get; private set; }
        public ShopService Shop { get; private set; }
        public EventsService Events { get; private set; }
        public LeaderboardsService Leaderboards { get; private set; }
        /// <summary>Cloud save, offline-first: a local copy, a write queue, conflicts reported with both copies.</summary>
        public CloudSaveService CloudSaves { get; private set; }
        /// <summary>The player's remote config, with its ETag and an offline copy.</summary>
        public RemoteConfigService RemoteConfig { get; private set; }
        /// <summary>The game's own analytics events, queued on disk and sent in batches (FlushAsync).</summary>
        public AnalyticsService Analytics { get; private set; }
        /// <summary>The player's own account: DeleteAccountAsync (and the local wipe after it), RequestDataExportAsync.</summary>
        public AccountService Account { get; private set; }

        /// <summary>The HTTP exchange without tokens or retries (AccountService sends its DELETE with it).</summary>
        internal IGamingPanelTransport Transport { get { return _http; } }

        /// <summary>Deletes the logged-in player's account, then everything kept for them on the device (AccountService).</summary>
        public Task DeleteAccountAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Account.DeleteAccountAsync(cancellationToken);
        }

        /// <summary>
        /// Everything the kit keeps on the device for a player whose account was deleted goes: the session first (nothing
        /// more is sent as them, no silent re-login), then the cache folder (cached reads, cloud-save state and queued
        /// writes, remote config, the analytics queue, copies set aside) with what the services hold in memory, and the
        /// pending purchase keys.
        /// </summary>
        internal void WipePlayer(string player)
        {
            Auth.ForgetDeletedSession(player);
            Cache.Erase(player);
            Shop.ForgetPlayer(player);
        }

        /// <summary>Logs in with a platform and remembers the provider for silent re-login.</summary>
        public Task<LoginResult> LoginAsync(ICredentialProvider provider, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Auth.LoginAsync(provider, cancellationToken);
        }

        public Task LogoutAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Auth.LogoutAsync(cancellationToken);
        }

        /// <param name="retrySafe">
        /// True only when repeating the request cannot do anything twice: reads, and writes the server
        /// de-duplicates (purchase with Idempotency-Key, reward claim, match result).
        /// </param>
        public Task<HttpResult> SendAuthorizedAsync(string method, string path, object body,
            IDictionary<string, string> extraHeaders, bool retrySafe, CancellationToken cancellationToken)
        {
            // The call belongs to whoever is logged in now: a retry never goes out as the next player.
            return SendAuthorizedAsync(method, path, body, extraHeaders, retrySafe, Auth.PlayerId, cancellationToken);
        }

        /// <param name="player">
        /// The player the call belongs to (the one logged in when it started), or null for whoever is logged in at
        /// each attempt. Every attempt, retries and the one after a renewal included, goes with that player's
        /// session only: when another player (or nobody) is logged in by then, it throws 401 not_logged_in
        /// (ApiError.PlayerChanged) rather than sending it with someone else's token.
        /// </param>
        public async Task<HttpResult> SendAuthorizedAsync(string method, string path, object body,
            IDictionary<string, string> extraHeaders, bool retrySafe, string player, CancellationToken cancellationToken)
        {
            // A DELETE of this player went out unconfirmed (this run or before a restart): finish it first. Once the
            // panel confirms it the player is wiped and the call ends with not_logged_in; otherwise it goes on.
            if (player != null && Auth.UnconfirmedDeletionToken(player) != null)
                await Account.ResumeUnconfirmedAsync(player, cancellationToken);

            int attempt = 0;
            bool keyed = extraHeaders != null && extraHeaders.ContainsKey("Idempotency-Key");
            while (true)
            {
                ApiError failure;
                try
                {
                    return await SendWithTokenAsync(method, path, body, extraHeaders, player, cancellationToken);
                }
                catch (ApiError error)
                {
                    failure = error;
                }

                // The server stores payment_provider_unavailable against the key: the same key only answers it again.
                if (!retrySafe || !failure.IsTransient || (keyed && failure.EndsPurchaseAttempt) || attempt >= _maxTransientRetries)
                    throw failure;
                float delay = failure.RetryAfterSeconds.HasValue
                    ? failure.RetryAfterSeconds.Value
                    : (float)Math.Min(8.0, Math.Pow(2, attempt)); // 1 s, 2 s, 4 s...
                if (delay > MaxRetryAfterSeconds) throw failure;
                attempt++;
                await Task.Delay(TimeSpan.FromSeconds(delay), cancellationToken);
            }
        }

        async Task<HttpResult> SendWithTokenAsync(string method, string path, object body,
            IDictionary<string, string> extraHeaders, string player, CancellationToken cancellationToken)
        {
            string accessToken = await Auth.GetAccessTokenAsync(player, cancellationToken);
            ApiError unauthorized;
            try
            {
                return await _http.SendAsync(method, path, body, WithBearer(extraHeaders, accessToken), cancellationToken);
            }
            catch (ApiError error)
            {
                // invalid_token too: e.g. the server rotated its token keys; a refresh fixes that as well.
                bool tokenProblem = error.Status == 401 && (error.Code == ErrorCodes.TokenExpired ||
                    error.Code == ErrorCodes.TokenRevoked || error.Code == ErrorCodes.InvalidToken);
                if (!tokenProblem) throw;
                unauthorized = error;
            }

            // The token died early (device clock wrong, session revoked elsewhere): refresh or log in again,
            // then retry once. A second 401 goes to the caller.
            Debug.Log("[GamingPanel] " + unauthorized.Code + " on " + path + "; renewing the session and retrying once.");
            accessToken = await Auth.RecoverFromUnauthorizedAsync(accessToken, player, cancellationToken);
            return await _http.SendAsync(method, path, body, WithBearer(extraHeaders, accessToken), cancellationToken);
        }

        static Dictionary<string, string> WithBearer(IDictionary<string, string> extraHeaders, string accessToken)
        {
            var headers = extraHeaders != null ? new Dictionary<string, string>(extraHeaders) : new Dictionary<string, string>();
            headers["Authorization"] = "Bearer " + accessToken;
            return headers;
        }
    }
}
