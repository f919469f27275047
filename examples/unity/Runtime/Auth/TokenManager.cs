// Gaming Panel Unity example: owns the session (access + refresh token) and keeps it alive.
//
// Rules, in the order they matter to a player:
//  1. The access token (2 h) is refreshed shortly *before* it expires (RefreshMargin), either lazily before a
//     request or by calling RefreshIfDueAsync from a timer (GamingPanelBootstrap does every 30 s).
//  2. Refresh tokens rotate: every refresh returns a new pair and the old refresh token dies. Only one refresh
//     runs at a time (callers share it, each waiting on its own CancellationToken while the refresh itself
//     runs to its end) and the new pair is persisted before anyone uses it; presenting a used refresh token
//     makes the server revoke the whole session.
//  3. A refresh answered neither with a pair nor with a refusal is sent again with the same refresh token, at most
//     twice (RefreshRetryDelays), and only while that token is still the session's (no logout or other login since):
//     - 429 or 503 with Retry-After: after the whole Retry-After (Delay). The panel answers these before it rotates
//       anything (its rate limits are checked before the token is looked up; a 503's transaction rolled back), so
//       the token is still the current one. A Retry-After over GamingPanelClient.MaxRetryAfterSeconds (30 s, the
//       limit of every authorised call) is not waited: the refresh fails at once with that ApiError.
//     - An answer that may have been lost (no answer, 408, another 5xx, a 2xx that is not the token JSON): after
//       1 s, then 2 s. The server may have rotated the token; it answers the retired token with a fresh pair for
//       30 s (REFRESH_REUSE_GRACE_SECONDS), and only for 30 s. (When a 429 after a lost answer puts the resend past
//       those 30 s and the lost request had rotated the token, the panel answers 401 refresh_token_reused: rule 4,
//       as any later refresh with that token would.)
//     After that, or on any other answer that is not a refusal (a proxy's HTML 403/404), nothing changes: the
//     tokens are kept, the game carries on offline (cached data) and a later call tries again, not within
//     RefreshBackoff (so retries of a call do not multiply refreshes) and never before the last answer's
//     Retry-After has passed (until then every caller, a renewal after a 401 included, gets that ApiError with the
//     seconds left). The player is never logged out for being offline.
//  4. Only when the server *refuses* the session (ApiError.EndsSession: 401 invalid_token, token_expired,
//     token_revoked, refresh_token_reused, 403 player_banned, as problem documents) is it dropped. Then, if a
//     credential provider is set, the player is logged in again silently (Steam etc. need no input); otherwise
//     SessionLost fires and the game shows its login screen. The exceptions:
//     - 401 token_revoked with "account_deleted": true in the problem document is the panel saying the account was
//       erased: AccountService wipes the player (AccountErased), nobody logs in again, the callers get not_logged_in.
//     - While a DELETE player is unconfirmed (TokenSet.UnconfirmedDeletionToken, saved before it is sent and kept
//       until the panel answers it or the game's next login settles it, also after its session ended), nothing logs
//       in again silently: the erasure deleted the player's identities, so a login would create a new account. For
//       the session of that player (and for the renewal the deletion asks for, RenewWithoutReloginAsync) a 401
//       token_revoked without account_deleted ended the session for another reason (a logout elsewhere, an operator,
//       reuse detection): the session is lost (SessionLost, not_logged_in) and the DELETE stays pending; any other
//       refusal goes to the caller as it came, the tokens left as they are.
//  5. Every login and logout starts a new session generation: a refresh or login answer that arrives for an
//     older generation (say after LogoutAsync) is discarded, never stored.
//  6. A call that belongs to one player (a cloud-save sync, its retries and its renewal after a 401) asks for that
//     player's token only: when another player (or nobody) is logged in by then it gets 401 not_logged_in, never
//     the other player's token.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    public sealed class LoginResult
    {
        public string PlayerId;
        public string DisplayName;
        /// <summary>True when this login created the player (first launch on this platform account).</summary>
        public bool Created;
    }

    public sealed class TokenManager
    {
        readonly IGamingPanelTransport _http;
        readonly ITokenStorage _storage;
        readonly string _gameKey;
        readonly object _gate = new object();
        Task<TokenSet> _refreshInFlight;
        Task<TokenSet> _exchangeInFlight; // its POST auth/refresh (retries included); a logout may need its answer
        TokenSet _logoutRenewing; // the tokens a logout renews an expired access token of: their refresh may still be resent
        int _refreshGeneration;
        bool _refreshWithoutRelogin; // the refresh in flight ends at a refusal: no silent re-login (account deletion)
        TimeSpan _refreshEndedAt; // on Elapsed
        Task<LoginResult> _loginInFlight;
        int _loginGeneration;
        TokenSet _tokens; // never holds the unconfirmed DELETE: that is _deletion, saved with it (PersistLocked)
        int _generation; // +1 at every login and every end of a session (rule 5)
        DeletionMark _deletion; // a DELETE player that went out unconfirmed; outlives the session it was sent with
        long _sessionChange; // +1 at every change of _tokens after the constructor (under _gate): SessionChanged's order
        readonly object _sessionTelling = new object(); // SessionChanged is raised under it, one change at a time
        long _sessionTold; // the newest change SessionChanged has been raised for (under _sessionTelling)

        sealed class DeletionMark
        {
            public string Player;
            public string Token;
            public string Platform;
        }

        public TokenManager(IGamingPanelTransport http, ITokenStorage storage, string gameKey, TimeSpan refreshMargin)
        {
            _http = http;
            _storage = storage;
            _gameKey = gameKey;
            RefreshMargin = refreshMargin;
            RefreshRetryDelays = new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2) };
            Delay = (wait, ct) => Task.Delay(wait, ct);
            TokenSet loaded = storage.Load();
            if (loaded != null && loaded.UnconfirmedDeletionToken != null)
                _deletion = new DeletionMark
                {
                    Player = loaded.UnconfirmedDeletionPlayerId ?? loaded.PlayerId,
                    Token = loaded.UnconfirmedDeletionToken,
                    Platform = loaded.UnconfirmedDeletionPlatform,
                };
            if (loaded != null && loaded.HasSessionTokens && !loaded.RefreshTokenExpired)
            {
                _tokens = loaded.Copy();
                _tokens.UnconfirmedDeletionToken = null;
                _tokens.UnconfirmedDeletionPlayerId = null;
                _tokens.UnconfirmedDeletionPlatform = null;
            }
            else if (loaded != null)
            {
                PersistLocked(); // the session is over; an unconfirmed DELETE stays on its own
            }
        }

        public TimeSpan RefreshMargin { get; set; }

        /// <summary>
        /// Waits before sending a refresh again when its answer may have been lost (rule 3): 1 s, then 2 s, well
        /// inside the 30 s in which the server still answers the retired refresh token with a fresh pair. Its length
        /// is how often a refresh is sent again, whatever the reason: an answer with Retry-After waits that instead.
        /// An empty array sends every refresh once.
        /// </summary>
        public TimeSpan[] RefreshRetryDelays { get; set; }

        /// <summary>
        /// How a refresh waits before it is sent again (rule 3): Task.Delay by default, which needs threads. On WebGL
        /// plug in a wait that runs on the main thread (a coroutine's WaitForSecondsRealtime completing a
        /// TaskCompletionSource), or set RefreshRetryDelays to an empty array.
        /// </summary>
        public Func<TimeSpan, CancellationToken, Task> Delay { get; set; }

        static readonly System.Diagnostics.Stopwatch Monotonic = System.Diagnostics.Stopwatch.StartNew();
        internal Func<TimeSpan> Elapsed = () => Monotonic.Elapsed; // tests move it by hand

        /// <summary>After a refresh failed without a refusal, callers get that failure again for this long instead of a new refresh.</summary>
        internal TimeSpan RefreshBackoff = TimeSpan.FromSeconds(5);

        /// <summary>Used to log in again when the refresh token is refused. Set by LoginAsync; may be set up-front.</summary>
        public ICredentialProvider CredentialProvider { get; set; }

        /// <summary>
        /// Fires after every login and refresh (new tokens) and after logout (null), on the thread that made the change.
        /// Raised one change at a time, in the order the session changed: a change that a newer one has overtaken by the
        /// time its turn comes (another thread's logout, or a handler that logged out or in) is not raised, nor given to
        /// the handlers after the one that changed the session again. So the last SessionChanged a handler got is the
        /// session now. A handler may log out or in itself; it must not block waiting for another thread's login, logout
        /// or refresh (that one waits for the handler to return before it raises its own SessionChanged).
        /// </summary>
        public event Action<TokenSet> SessionChanged;

        /// <summary>
        /// Fires when the session is gone and could not be re-created: show the login screen. Also when the panel
        /// confirmed an account deletion that no DeleteAccountAsync was waiting for (401 not_logged_in, the player wiped).
        /// </summary>
        public event Action<ApiError> SessionLost;

        /// <summary>
        /// Set by AccountService: a refresh of this player's session was refused with 401 token_revoked while a DELETE of
        /// theirs was unconfirmed, so the panel erased the account; wipes everything kept for the player.
        /// </summary>
        internal Action<string> AccountErased;

        /// <summary>Set by AccountService: the session of this player ended (logout, a login, a lost session); its deletion run ends.</summary>
        internal Action<string> SessionEnding;

        /// <summary>
        /// Set by AccountService: a login settled the unconfirmed DELETE of this player (true: the account was erased,
        /// the login made a new player; false: the login answered the same player, the account still exists).
        /// </summary>
        internal Action<string, bool> DeletionSettledAtLogin;

        internal int Generation { get { lock (_gate) return _generation; } }

        /// <summary>The player of an unconfirmed DELETE (with or without a session), or null.</summary>
        internal string PendingDeletionPlayerId { get { lock (_gate) return _deletion != null ? _deletion.Player : null; } }

        public bool HasSession { get { return _tokens != null; } }
        public string PlayerId { get { TokenSet tokens = _tokens; return tokens != null ? tokens.PlayerId : null; } }
        public string DisplayName { get { TokenSet tokens = _tokens; return tokens != null ? tokens.DisplayName : null; } }

        /// <summary>True when the access token is inside the refresh margin (or already expired).</summary>
        public bool RefreshDue
        {
            get { return IsDue(_tokens); }
        }

        bool IsDue(TokenSet tokens)
        {
            return tokens != null && DateTime.UtcNow >= tokens.AccessExpiresAtUtc - RefreshMargin;
        }

        public async Task<LoginResult> LoginAsync(ICredentialProvider provider, CancellationToken cancellationToken)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            CredentialProvider = provider;
            Task<LoginResult> login;
            Task<Task<LoginResult>> start = null;
            lock (_gate)
            {
                if (_loginInFlight == null || _loginInFlight.IsCompleted || _loginGeneration != _generation)
                {
                    int generation = _generation;
                    _loginGeneration = generation;
                    start = new Task<Task<LoginResult>>(() => LoginCoreAsync(provider, generation, cancellationToken));
                    _loginInFlight = start.Unwrap();
                }
                login = _loginInFlight;
            }
            // Started once _gate is released: a login answered at once (a transport that completes synchronously) stores
            // its tokens and raises SessionChanged on this thread, which must not hold _gate then (RaiseSessionChanged).
            if (start != null) start.RunSynchronously(TaskScheduler.Default);
            return await login;
        }

        async Task<LoginResult> LoginCoreAsync(ICredentialProvider provider, int generation, CancellationToken cancellationToken)
        {
            PlatformCredentials credentials = await provider.GetCredentialsAsync(cancellationToken);
            HttpResult response;
            try
            {
                var body = new Dictionary<string, object>
                {
                    { "platform", credentials.Platform },
                    { "credentials", credentials.Credentials },
                };
                var headers = new Dictionary<string, string> { { "X-Game-Key", _gameKey } };
                response = await _http.SendAsync("POST", "auth/third-party/login", body, headers, cancellationToken);
            }
            finally
            {
                if (credentials.Release != null) credentials.Release();
            }

            Dictionary<string, object> json = response.JsonObject;
            TokenSet tokens = TokenSet.FromResponse(json, null);
            tokens.Platform = credentials.Platform;
            string ended;
            if (!Store(tokens, generation, true, out ended)) throw SessionEnded("The player logged out while logging in.");
            Dictionary<string, object> player = Json.GetObject(json, "player");
            try
            {
                SettleDeletionAtLogin(tokens.PlayerId, Json.GetBool(player, "created"), credentials.Platform);
            }
            finally
            {
                // Only now what ends with the old session (a deletion run) is released: a game awaiting it has heard
                // PendingDeletionSettled by the time it resumes.
                ReleaseSessionCalls(ended);
            }
            return new LoginResult
            {
                PlayerId = tokens.PlayerId,
                DisplayName = tokens.DisplayName,
                Created = Json.GetBool(player, "created"),
            };
        }

        /// <summary>
        /// A usable access token: refreshes first when inside the margin. Throws ApiError network_error when the
        /// token is expired and the server cannot be reached (play offline from the cache), and
        /// not_logged_in when there is no session and no credential provider.
        /// </summary>
        public Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
        {
            return GetAccessTokenAsync(null, cancellationToken);
        }

        /// <param name="player">
        /// When set, only a token of this player's session is answered: when another player is logged in (or
        /// nobody, and the credential provider did not log this player back in) it throws 401 not_logged_in
        /// (ApiError.PlayerChanged) instead of answering their token.
        /// </param>
        internal async Task<string> GetAccessTokenAsync(string player, CancellationToken cancellationToken)
        {
            if (_tokens == null)
            {
                if (CredentialProvider == null)
                    throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "Call LoginAsync first.");
                if (PendingDeletionPlayerId != null) throw NoSilentLogin();
                await LoginAsync(CredentialProvider, cancellationToken);
            }
            TokenSet current = _tokens;
            if (current == null) throw SessionEnded("The session ended.");
            if (!RefreshDue) return TokenOf(current, player);

            try
            {
                return TokenOf(await RefreshAsync(cancellationToken, false, false, true), player);
            }
            catch (ApiError error)
            {
                // Still valid for a few minutes and the server is only unreachable: use it.
                if (error.IsTransient && _tokens == current && !current.AccessTokenExpired) return TokenOf(current, player);
                throw;
            }
        }

        /// <summary>The access token of `tokens`; 401 not_logged_in when a call of `player` (when set) would get another player's.</summary>
        static string TokenOf(TokenSet tokens, string player)
        {
            if (tokens == null) throw SessionEnded("The session ended.");
            if (player != null && tokens.PlayerId != player) throw ApiError.PlayerChanged();
            return tokens.AccessToken;
        }

        /// <summary>Refreshes if due; for a timer. Swallows transient failures (they are retried next time).</summary>
        public async Task RefreshIfDueAsync(CancellationToken cancellationToken)
        {
            if (!RefreshDue) return;
            try
            {
                await RefreshAsync(cancellationToken, false, false, true);
            }
            catch (ApiError error)
            {
                if (!error.IsTransient) throw;
                Debug.Log("[GamingPanel] Token refresh postponed: " + error.Code);
            }
        }

        /// <summary>
        /// Refreshes now (single flight: concurrent callers share one refresh). cancellationToken only stops this
        /// caller's wait: the shared refresh runs to its end, so a rotated pair is never lost to one caller.
        /// </summary>
        public Task<TokenSet> RefreshAsync(CancellationToken cancellationToken)
        {
            return RefreshAsync(cancellationToken, false);
        }

        /// <param name="ifDue">
        /// The caller found the access token due (GetAccessTokenAsync, RefreshIfDueAsync): when a refresh (or a login) that
        /// ended since it looked has renewed it, that pair is the answer, and no second refresh goes out.
        /// </param>
        Task<TokenSet> RefreshAsync(CancellationToken cancellationToken, bool force, bool withoutRelogin = false, bool ifDue = false)
        {
            Task<TokenSet> shared;
            Task<Task<TokenSet>> start = null;
            lock (_gate)
            {
                if (ifDue && _tokens != null && !IsDue(_tokens)) return Task.FromResult(_tokens);
                bool thisSession = _refreshInFlight != null && _refreshGeneration == _generation;
                ApiError quiet = thisSession && _refreshInFlight.IsFaulted ? RetryAfterLeft(_refreshInFlight) : null;
                // The last refresh of this session answered with a Retry-After that has not passed: nobody sends
                // one sooner than the panel asked, not even after a 401.
                if (quiet != null) return Task.FromException<TokenSet>(quiet);
                // Join the refresh of this session that is running, or (unless forced) one that failed a moment ago.
                bool join = thisSession &&
                    (!_refreshInFlight.IsCompleted ||
                     (!force && _refreshInFlight.IsFaulted && Elapsed() < _refreshEndedAt + RefreshBackoff));
                if (!join)
                {
                    TokenSet current = _tokens;
                    int generation = _generation;
                    _refreshGeneration = generation;
                    _refreshWithoutRelogin = withoutRelogin;
                    // The POST goes out now (a logout sees it at once as this refresh's); what stores and tells its answer
                    // starts below, once _gate is released (SessionChanged is never raised under _gate).
                    Task<TokenSet> exchange = current != null ? ExchangeAsync(current) : null;
                    _exchangeInFlight = exchange;
                    start = new Task<Task<TokenSet>>(() => RefreshCoreAsync(current, generation, exchange));
                    _refreshInFlight = start.Unwrap();
                }
                else if (withoutRelogin && !_refreshInFlight.IsCompleted)
                {
                    _refreshWithoutRelogin = true; // joined: the running refresh must not log in silently either
                }
                shared = _refreshInFlight;
            }
            if (start != null) start.RunSynchronously(TaskScheduler.Default);
            return WaitAsync(shared, cancellationToken);
        }

        /// <summary>
        /// The failed refresh's error again, its RetryAfterSeconds the seconds left, while the Retry-After of its
        /// last answer (a 429 or 5xx) has not passed; null when it has, or it had none.
        /// </summary>
        ApiError RetryAfterLeft(Task<TokenSet> failed)
        {
            var error = failed.Exception != null ? failed.Exception.InnerException as ApiError : null;
            if (error == null || !error.RetryAfterSeconds.HasValue || !(error.Status == 429 || error.Status >= 500)) return null;
            TimeSpan left = _refreshEndedAt + TimeSpan.FromSeconds(error.RetryAfterSeconds.Value) - Elapsed();
            if (left <= TimeSpan.Zero) return null;
            return new ApiError(error.Status, error.Code, error.Title, error.Detail, error.Type, (float)left.TotalSeconds, error.Problem);
        }

        /// <summary>
        /// Called by the client after a 401 token_expired/token_revoked. Refreshes unless another caller has
        /// already replaced the token that failed, so a burst of 401s costs one refresh.
        /// </summary>
        public Task<string> RecoverFromUnauthorizedAsync(string failedAccessToken, CancellationToken cancellationToken)
        {
            return RecoverFromUnauthorizedAsync(failedAccessToken, null, cancellationToken);
        }

        /// <param name="player">When set, only a token of this player's session is answered (as GetAccessTokenAsync).</param>
        internal async Task<string> RecoverFromUnauthorizedAsync(string failedAccessToken, string player, CancellationToken cancellationToken)
        {
            TokenSet current = _tokens;
            if (current != null && current.AccessToken != failedAccessToken) return TokenOf(current, player);
            if (current == null)
            {
                if (CredentialProvider == null) throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "The session has ended.");
                if (PendingDeletionPlayerId != null) throw NoSilentLogin();
                await LoginAsync(CredentialProvider, cancellationToken);
                return TokenOf(_tokens, player);
            }
            // The server answered, so it is reachable: refresh even inside RefreshBackoff.
            return TokenOf(await RefreshAsync(cancellationToken, true), player);
        }

        /// <summary>
        /// After a DELETE player went out and its resend got 401 token_expired/invalid_token: renews `player`'s session
        /// with no silent re-login (after an erasure it would create a new account). A refusal is decided as rule 4
        /// says (the erasure: wiped, not_logged_in; another 401 token_revoked: the session lost, not_logged_in); any
        /// other is thrown as it came, the tokens left as they are. Never logs in: with no session of `player` it
        /// throws not_logged_in.
        /// </summary>
        internal async Task<string> RenewWithoutReloginAsync(string failedAccessToken, string player, CancellationToken cancellationToken)
        {
            TokenSet current = _tokens;
            if (current == null || current.PlayerId != player) throw ApiError.PlayerChanged();
            // Renewed by another call meanwhile; unless that token has expired too (then the DELETE would get 401 again).
            if (current.AccessToken != failedAccessToken && !current.AccessTokenExpired) return current.AccessToken;
            return TokenOf(await RefreshAsync(cancellationToken, true, true), player);
        }

        /// <summary>The access token a still unconfirmed DELETE of `player` went with, while `player` is logged in; or null.</summary>
        internal string UnconfirmedDeletionToken(string player)
        {
            lock (_gate)
            {
                TokenSet tokens = _tokens;
                return tokens != null && player != null && tokens.PlayerId == player && _deletion != null && _deletion.Player == player
                    ? _deletion.Token : null;
            }
        }

        /// <summary>
        /// Before a DELETE player of `player` goes out with `accessToken`: kept with the session and saved (ITokenStorage),
        /// so that until the panel answers it, even after a restart, nothing logs in again silently. Throws not_logged_in
        /// when the session of `generation` is over (a logout or a login since): the DELETE is then not sent.
        /// </summary>
        internal void MarkDeletionSent(string player, string accessToken, int generation)
        {
            lock (_gate)
            {
                if (_tokens == null || _tokens.PlayerId != player || generation != _generation) throw ApiError.PlayerChanged();
                _deletion = new DeletionMark { Player = player, Token = accessToken, Platform = _tokens.Platform };
                PersistLocked();
            }
        }

        /// <summary>No DELETE of `player` may have reached the panel after all (each was refused as it came): forgets it.</summary>
        internal void ClearDeletionMark(string player)
        {
            lock (_gate)
            {
                if (_deletion == null || _deletion.Player != player) return;
                _deletion = null;
                PersistLocked();
            }
        }

        /// <param name="exchange">Its POST auth/refresh (ExchangeAsync of `current`), sent by RefreshAsync; null without a session.</param>
        async Task<TokenSet> RefreshCoreAsync(TokenSet current, int generation, Task<TokenSet> exchange)
        {
            try
            {
                if (current == null) throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "No session to refresh.");

                ApiError refused;
                try
                {
                    TokenSet rotated = await exchange;
                    // Rule 5: logged out (or in again) while this was out: the pair belongs to a session that is over.
                    string none;
                    if (!Store(rotated, generation, false, out none)) throw SessionEnded("The session ended while it was being refreshed.");
                    return rotated;
                }
                catch (ApiError error)
                {
                    if (error.EndsSession) refused = error;
                    else if (error.IsTransient || error.Code == ErrorCodes.NotLoggedIn) throw; // rule 3: keep everything
                    else throw KeptSession(error);
                }

                // Rule 4: the server refused this refresh token. The session is over, unless it already ended.
                bool deletionUnconfirmed;
                lock (_gate)
                {
                    if (generation != _generation) throw refused;
                    // An account deletion asked for this refresh (RenewWithoutReloginAsync): nobody logs in again silently.
                    deletionUnconfirmed = _refreshWithoutRelogin || (_deletion != null && _deletion.Player == current.PlayerId);
                }
                if (refused.AccountErased)
                {
                    Debug.Log("[GamingPanel] Refresh token revoked: the panel says the account was deleted.");
                    Action<string> erased = AccountErased;
                    if (erased != null) erased(current.PlayerId);
                    else ForgetDeletedSession(current.PlayerId);
                    throw ApiError.AccountDeleted();
                }
                if (deletionUnconfirmed)
                {
                    if (refused.Status == 401 && refused.Code == ErrorCodes.TokenRevoked)
                    {
                        Debug.Log("[GamingPanel] Refresh token revoked, not by the account's deletion: the session is lost, the DELETE stays unconfirmed.");
                        ApiError lost = ApiError.SessionLostWithDeletionPending();
                        LoseSessionKeepingDeletion(current.PlayerId, lost);
                        throw lost;
                    }
                    Debug.Log("[GamingPanel] Refresh token refused (" + refused.Code + ") while the account's deletion is unconfirmed; " +
                        "no silent re-login (it would create a new account), tokens kept.");
                    throw refused;
                }
                Debug.Log("[GamingPanel] Refresh token refused (" + refused.Code + "); starting a new session.");
                // The ended session's waiting calls (a deletion run) are released only once the game has been told how
                // it ended: SessionLost (no credential provider, or its login failed too), or the silent login's session.
                string ended = ForgetSession();
                try
                {
                    ICredentialProvider provider = CredentialProvider;
                    if (provider != null)
                    {
                        try
                        {
                            await LoginAsync(provider, CancellationToken.None);
                            TokenSet renewed = _tokens;
                            if (renewed == null) throw SessionEnded("The session ended.");
                            return renewed;
                        }
                        catch (ApiError loginError)
                        {
                            if (!loginError.IsTransient && loginError.Code != ErrorCodes.NotLoggedIn) RaiseSessionLost(loginError);
                            throw;
                        }
                    }
                    RaiseSessionLost(refused);
                    throw refused;
                }
                finally
                {
                    ReleaseSessionCalls(ended);
                }
            }
            finally
            {
                _refreshEndedAt = Elapsed();
            }
        }

        /// <summary>
        /// POST auth/refresh with this session's refresh token, sent again with the same token as rule 3 says (after a
        /// Retry-After, or RefreshRetryDelays when the answer may have been lost) while the token is still the
        /// session's. Stores nothing. Runs on CancellationToken.None: it is shared.
        /// </summary>
        async Task<TokenSet> ExchangeAsync(TokenSet current)
        {
            var body = new Dictionary<string, object> { { "refresh_token", current.RefreshToken } };
            for (int attempt = 0; ; attempt++)
            {
                ApiError failure;
                try
                {
                    HttpResult response = await _http.SendAsync("POST", "auth/refresh", body, null, CancellationToken.None);
                    return TokenSet.FromResponse(response.JsonObject, current);
                }
                catch (ApiError error)
                {
                    failure = error;
                }
                TimeSpan? wait = ResendAfter(failure, attempt, RefreshRetryDelays ?? new TimeSpan[0]);
                if (!wait.HasValue) throw failure;
                Debug.Log("[GamingPanel] Token refresh answered " + failure.Status + " " + failure.Code + "; sending the same refresh token again in " + wait.Value.TotalSeconds + " s.");
                await Delay(wait.Value, CancellationToken.None);
                // Logged out, or another session began, during the wait: that token is nobody's to send any more.
                if (!StillWanted(current)) throw SessionEnded("The session ended while its refresh waited to be sent again.");
            }
        }

        /// <summary>
        /// How long to wait before sending the same refresh token again after attempt `attempt` (0: the first send)
        /// failed with `failure`; null: the refresh ends with it (rule 3).
        /// </summary>
        static TimeSpan? ResendAfter(ApiError failure, int attempt, TimeSpan[] delays)
        {
            if (failure.EndsSession || attempt >= delays.Length) return null;
            if (failure.RetryAfterSeconds.HasValue && (failure.Status == 429 || failure.Status >= 500))
            {
                // Answered before anything rotated: the token is still current, and the panel asked for this much quiet.
                if (failure.RetryAfterSeconds.Value > GamingPanelClient.MaxRetryAfterSeconds) return null;
                return TimeSpan.FromSeconds(failure.RetryAfterSeconds.Value);
            }
            return MayHaveLostAnswer(failure) ? delays[attempt] : (TimeSpan?)null;
        }

        /// <summary>The server may have rotated the token without the answer arriving: no answer, 408, 5xx, or a 2xx that is not the token JSON.</summary>
        static bool MayHaveLostAnswer(ApiError error)
        {
            return error.Status == 0 || error.Status == 408 || error.Status >= 500 || (error.Status >= 200 && error.Status < 300);
        }

        /// <summary>These tokens are still the session's, or a logout renews their expired access token.</summary>
        bool StillWanted(TokenSet current)
        {
            lock (_gate) return ReferenceEquals(_tokens, current) || ReferenceEquals(_logoutRenewing, current);
        }

        /// <summary>A failed refresh that is no refusal (a proxy's HTML 403/404, an unreadable 2xx): reported like a network error, tokens kept.</summary>
        static ApiError KeptSession(ApiError error)
        {
            return new ApiError(0, ErrorCodes.NetworkError, "Network error",
                "auth/refresh answered " + error.Status + " " + error.Code + ", which is not the panel refusing the session; tokens kept.");
        }

        static ApiError SessionEnded(string detail)
        {
            return new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", detail);
        }

        /// <summary>The shared task's outcome for one caller, who may stop waiting (OperationCanceledException) without cancelling it.</summary>
        internal static async Task<T> WaitAsync<T>(Task<T> shared, CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled && !shared.IsCompleted)
            {
                var cancelled = new TaskCompletionSource<bool>();
                using (cancellationToken.Register(() => cancelled.TrySetResult(true)))
                {
                    if (await Task.WhenAny(shared, cancelled.Task) != shared)
                    {
                        Observe(shared);
                        throw new OperationCanceledException(cancellationToken);
                    }
                }
            }
            return await shared;
        }

        /// <summary>Nobody may await the task any more: observe its failure so it is not reported as unobserved.</summary>
        static void Observe(Task task)
        {
            task.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }

        /// <summary>
        /// Ends the session on the server (best effort) and forgets it locally at once; no silent re-login after it.
        /// auth/logout takes only an access token: an expired one is renewed first (sharing a refresh already out),
        /// and that renewed pair is used for the logout only, never stored.
        /// </summary>
        public async Task LogoutAsync(CancellationToken cancellationToken)
        {
            TokenSet current;
            Task<TokenSet> exchange;
            lock (_gate)
            {
                current = _tokens;
                exchange = _refreshInFlight != null && !_refreshInFlight.IsCompleted && _refreshGeneration == _generation
                    ? _exchangeInFlight : null;
                // Renewed for the logout below: its refresh may be sent again after the session is cleared.
                if (current != null && current.AccessTokenExpired) _logoutRenewing = current;
            }
            CredentialProvider = null; // logging out means "don't log me back in silently"
            ClearSession();            // a refresh still out is discarded when it answers (rule 5)
            if (current == null) return;

            string accessToken = current.AccessToken;
            if (current.AccessTokenExpired)
            {
                try
                {
                    accessToken = (await WaitAsync(exchange ?? ExchangeAsync(current), cancellationToken)).AccessToken;
                }
                catch (ApiError error)
                {
                    Debug.Log("[GamingPanel] Logout: the expired access token could not be renewed (" + error.Code +
                        "); local session cleared, the server's session ends when its refresh token expires.");
                    return;
                }
                finally
                {
                    lock (_gate) if (ReferenceEquals(_logoutRenewing, current)) _logoutRenewing = null;
                }
            }
            try
            {
                var headers = new Dictionary<string, string> { { "Authorization", "Bearer " + accessToken } };
                await _http.SendAsync("POST", "auth/logout", null, headers, cancellationToken);
            }
            catch (ApiError error)
            {
                Debug.Log("[GamingPanel] Logout not confirmed by the server (" + error.Code + "); local session cleared anyway.");
            }
        }

        /// <summary>
        /// Keeps tokens of session `generation` (a new session when newSession: a login); false, and nothing
        /// stored, when that session has ended meanwhile (rule 5). `ended`: the player whose session a login replaced
        /// (or null); the caller releases that session's waiting calls (ReleaseSessionCalls) once the game has been told
        /// what the login did.
        /// </summary>
        bool Store(TokenSet tokens, int generation, bool newSession, out string ended)
        {
            ended = null;
            long change;
            lock (_gate)
            {
                if (generation != _generation) return false;
                if (newSession)
                {
                    _generation++;
                    if (_tokens != null) ended = _tokens.PlayerId;
                }
                _tokens = tokens;
                change = ++_sessionChange;
                PersistLocked(); // before anyone uses the new access token: see rule 2
            }
            RaiseSessionChanged(tokens, change);
            return true;
        }

        /// <summary>
        /// SessionChanged(`tokens`), change number `change` (taken under _gate with the change itself): one change at a time,
        /// in their order. Without this, a login's SessionChanged(tokens) raised outside _gate could reach the game after
        /// a later logout's SessionChanged(null) (another thread's, or a handler's own), leaving it believing it is logged in.
        /// A change overtaken by a newer one already raised is dropped, and so is the rest of one whose handler changed the
        /// session again (the newer change has been given to every handler).
        /// </summary>
        void RaiseSessionChanged(TokenSet tokens, long change)
        {
            lock (_sessionTelling)
            {
                if (change <= _sessionTold) return;
                _sessionTold = change;
                Action<TokenSet> handlers = SessionChanged;
                if (handlers == null) return;
                foreach (Delegate handler in handlers.GetInvocationList())
                {
                    if (_sessionTold != change) return; // a handler changed the session again, and that has been told
                    ((Action<TokenSet>)handler)(tokens);
                }
            }
        }

        /// <summary>
        /// The player's account was deleted: their session is forgotten here and in storage, with no silent re-login
        /// (the credential provider would create a new account). Another player's session, if one began meanwhile, stays.
        /// </summary>
        internal void ForgetDeletedSession(string player)
        {
            lock (_gate)
            {
                if (_deletion != null && _deletion.Player == player)
                {
                    _deletion = null;
                    PersistLocked();
                }
                if (_tokens != null && _tokens.PlayerId != player) return;
            }
            CredentialProvider = null;
            ClearSession();
        }

        /// <summary>
        /// The session of `player` was refused with 401 token_revoked while a DELETE of theirs is unconfirmed, not by the
        /// erasure: it is over (no silent re-login), SessionLost tells the game, and the DELETE stays pending for the
        /// next login to settle.
        /// </summary>
        internal void LoseSessionKeepingDeletion(string player, ApiError lost)
        {
            lock (_gate)
            {
                if (_tokens == null || _tokens.PlayerId != player) return;
            }
            CredentialProvider = null;
            ClearSession(lost);
        }

        /// <summary>
        /// After a login as `player`: an unconfirmed DELETE is settled. The same player: the account still exists (the
        /// DELETE never arrived). A player the login created, on the DELETE's platform: the erasure deleted the old
        /// player's identities, so the same platform account made a new one. Anything else (an existing player, another
        /// platform: someone else's account) says nothing of it, and it stays pending.
        /// </summary>
        void SettleDeletionAtLogin(string player, bool created, string platform)
        {
            DeletionMark mark;
            bool deleted;
            lock (_gate)
            {
                mark = _deletion;
                if (mark == null || player == null) return;
                if (mark.Player == player) deleted = false;
                else if (created && (mark.Platform == null || mark.Platform == platform)) deleted = true;
                else return;
                _deletion = null;
                PersistLocked();
            }
            Debug.Log("[GamingPanel] The login settled the unconfirmed deletion of player " + mark.Player + ": " +
                (deleted ? "the account was deleted." : "the account still exists."));
            Action<string, bool> settled = DeletionSettledAtLogin;
            if (settled != null) settled(mark.Player, deleted);
        }

        /// <summary>
        /// Ends the session: SessionChanged(null), then SessionLost(`lost`) when given, and only then the session's waiting
        /// calls (a deletion run ends with not_logged_in), so a game awaiting one has been told by the time it resumes.
        /// (A login does the same in its order: SessionChanged, PendingDeletionSettled, then the old session's calls.)
        /// </summary>
        void ClearSession(ApiError lost = null)
        {
            string ended = ForgetSession();
            if (lost != null) RaiseSessionLost(lost);
            ReleaseSessionCalls(ended);
        }

        /// <summary>
        /// The first half of ClearSession: the session is forgotten (in storage too; an unconfirmed DELETE stays) and
        /// SessionChanged(null) raised. Answers the player whose session ended (or null), for ReleaseSessionCalls once
        /// the game has been told how it ended.
        /// </summary>
        string ForgetSession()
        {
            string ended;
            long change;
            lock (_gate)
            {
                _generation++;
                ended = _tokens != null ? _tokens.PlayerId : null;
                _tokens = null;
                change = ++_sessionChange;
                PersistLocked(); // an unconfirmed DELETE stays
            }
            RaiseSessionChanged(null, change);
            return ended;
        }

        /// <summary>
        /// The session of `ended` (when not null) is over and the new one (if any) in place: what ends with it (a deletion
        /// run: not_logged_in) is released, and cannot use it any more.
        /// </summary>
        void ReleaseSessionCalls(string ended)
        {
            if (ended != null && SessionEnding != null) SessionEnding(ended);
        }

        /// <summary>Saves the session with the unconfirmed DELETE (or that DELETE alone), or clears the storage when neither is left. Under _gate.</summary>
        void PersistLocked()
        {
            if (_tokens == null && _deletion == null)
            {
                _storage.Clear();
                return;
            }
            TokenSet saved = _tokens != null ? _tokens.Copy() : new TokenSet();
            saved.UnconfirmedDeletionToken = _deletion != null ? _deletion.Token : null;
            saved.UnconfirmedDeletionPlayerId = _deletion != null ? _deletion.Player : null;
            saved.UnconfirmedDeletionPlatform = _deletion != null ? _deletion.Platform : null;
            _storage.Save(saved);
        }

        static ApiError NoSilentLogin()
        {
            return new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in",
                "A DELETE of the account is unconfirmed: no silent login (after the erasure it would create a new account). Call LoginAsync.");
        }

        internal void RaiseSessionLost(ApiError error)
        {
            if (SessionLost != null) SessionLost(error);
        }
    }
}
