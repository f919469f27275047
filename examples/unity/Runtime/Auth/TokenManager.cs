// Gaming Panel Unity example: owns the session (access + refresh token) and keeps it alive.
//
// Rules, in the order they matter to a player:
//  1. The access token (2 h) is refreshed shortly *before* it expires (RefreshMargin), either lazily before a
//     request or by calling RefreshIfDueAsync from a timer (GamingPanelBootstrap does every 30 s).
//  2. Refresh tokens rotate: every refresh returns a new pair and the old refresh token dies. Only one refresh
//     runs at a time (callers share it) and the new pair is persisted before anyone uses it; presenting a
//     used refresh token makes the server revoke the whole session.
//  3. A network error, 429 or 5xx during refresh changes nothing: the tokens are kept, the game carries on
//     offline (cached data) and the next call tries again. The player is never logged out for being offline.
//  4. Only when the server *refuses* the refresh token (4xx: expired after 30 d, revoked, reused, player
//     banned) is the session dropped. Then, if a credential provider is set, the player is logged in again
//     silently (Steam etc. need no input); otherwise SessionLost fires and the game shows its login screen.
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
        Task<LoginResult> _loginInFlight;
        TokenSet _tokens;

        public TokenManager(IGamingPanelTransport http, ITokenStorage storage, string gameKey, TimeSpan refreshMargin)
        {
            _http = http;
            _storage = storage;
            _gameKey = gameKey;
            RefreshMargin = refreshMargin;
            _tokens = storage.Load();
            if (_tokens != null && _tokens.RefreshTokenExpired)
            {
                storage.Clear();
                _tokens = null;
            }
        }

        public TimeSpan RefreshMargin { get; set; }

        /// <summary>Used to log in again when the refresh token is refused. Set by LoginAsync; may be set up-front.</summary>
        public ICredentialProvider CredentialProvider { get; set; }

        /// <summary>Fires after every login and refresh (new tokens) and after logout (null).</summary>
        public event Action<TokenSet> SessionChanged;

        /// <summary>Fires when the session is gone and could not be re-created: show the login screen.</summary>
        public event Action<ApiError> SessionLost;

        public bool HasSession { get { return _tokens != null; } }
        public string PlayerId { get { return _tokens != null ? _tokens.PlayerId : null; } }
        public string DisplayName { get { return _tokens != null ? _tokens.DisplayName : null; } }

        /// <summary>True when the access token is inside the refresh margin (or already expired).</summary>
        public bool RefreshDue
        {
            get { return _tokens != null && DateTime.UtcNow >= _tokens.AccessExpiresAtUtc - RefreshMargin; }
        }

        public async Task<LoginResult> LoginAsync(ICredentialProvider provider, CancellationToken cancellationToken)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            CredentialProvider = provider;
            Task<LoginResult> login;
            lock (_gate)
            {
                if (_loginInFlight == null || _loginInFlight.IsCompleted) _loginInFlight = LoginCoreAsync(provider, cancellationToken);
                login = _loginInFlight;
            }
            return await login;
        }

        async Task<LoginResult> LoginCoreAsync(ICredentialProvider provider, CancellationToken cancellationToken)
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
            Store(tokens);
            Dictionary<string, object> player = Json.GetObject(json, "player");
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
        public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
        {
            if (_tokens == null)
            {
                if (CredentialProvider == null)
                    throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "Call LoginAsync first.");
                await LoginAsync(CredentialProvider, cancellationToken);
            }
            if (!RefreshDue) return _tokens.AccessToken;

            TokenSet current = _tokens;
            try
            {
                return (await RefreshAsync(cancellationToken)).AccessToken;
            }
            catch (ApiError error)
            {
                // Still valid for a few minutes and the server is only unreachable: use it.
                if (error.IsTransient && _tokens == current && !current.AccessTokenExpired) return current.AccessToken;
                throw;
            }
        }

        /// <summary>Refreshes if due; for a timer. Swallows transient failures (they are retried next time).</summary>
        public async Task RefreshIfDueAsync(CancellationToken cancellationToken)
        {
            if (!RefreshDue) return;
            try
            {
                await RefreshAsync(cancellationToken);
            }
            catch (ApiError error)
            {
                if (!error.IsTransient) throw;
                Debug.Log("[GamingPanel] Token refresh postponed: " + error.Code);
            }
        }

        /// <summary>Refreshes now (single flight: concurrent callers share one request).</summary>
        public Task<TokenSet> RefreshAsync(CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                if (_refreshInFlight == null || _refreshInFlight.IsCompleted) _refreshInFlight = RefreshCoreAsync(cancellationToken);
                return _refreshInFlight;
            }
        }

        /// <summary>
        /// Called by the client after a 401 token_expired/token_revoked. Refreshes unless another caller has
        /// already replaced the token that failed, so a burst of 401s costs one refresh.
        /// </summary>
        public async Task<string> RecoverFromUnauthorizedAsync(string failedAccessToken, CancellationToken cancellationToken)
        {
            TokenSet current = _tokens;
            if (current != null && current.AccessToken != failedAccessToken) return current.AccessToken;
            if (current == null)
            {
                if (CredentialProvider == null) throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "The session has ended.");
                await LoginAsync(CredentialProvider, cancellationToken);
                return _tokens.AccessToken;
            }
            return (await RefreshAsync(cancellationToken)).AccessToken;
        }

        async Task<TokenSet> RefreshCoreAsync(CancellationToken cancellationToken)
        {
            TokenSet current = _tokens;
            if (current == null) throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "No session to refresh.");

            ApiError refused = null;
            try
            {
                var body = new Dictionary<string, object> { { "refresh_token", current.RefreshToken } };
                HttpResult response = await _http.SendAsync("POST", "auth/refresh", body, null, cancellationToken);
                TokenSet rotated = TokenSet.FromResponse(response.JsonObject, current);
                Store(rotated);
                return rotated;
            }
            catch (ApiError error)
            {
                // Rule 3: offline, rate limited or server trouble. Keep everything.
                if (error.IsTransient) throw;
                refused = error;
            }

            // Rule 4: the server refused this refresh token. The session is over.
            Debug.Log("[GamingPanel] Refresh token refused (" + refused.Code + "); starting a new session.");
            ClearSession();
            if (CredentialProvider != null)
            {
                try
                {
                    await LoginAsync(CredentialProvider, cancellationToken);
                    return _tokens;
                }
                catch (ApiError loginError)
                {
                    if (!loginError.IsTransient) RaiseSessionLost(loginError);
                    throw;
                }
            }
            RaiseSessionLost(refused);
            throw refused;
        }

        /// <summary>Ends the session on the server (best effort) and forgets it locally.</summary>
        public async Task LogoutAsync(CancellationToken cancellationToken)
        {
            TokenSet current = _tokens;
            CredentialProvider = null; // logging out means "don't log me back in silently"
            ClearSession();
            if (current == null || current.AccessTokenExpired) return;
            try
            {
                var headers = new Dictionary<string, string> { { "Authorization", "Bearer " + current.AccessToken } };
                await _http.SendAsync("POST", "auth/logout", null, headers, cancellationToken);
            }
            catch (ApiError error)
            {
                Debug.Log("[GamingPanel] Logout not confirmed by the server (" + error.Code + "); local session cleared anyway.");
            }
        }

        void Store(TokenSet tokens)
        {
            _tokens = tokens;
            _storage.Save(tokens); // before anyone uses the new access token: see rule 2
            if (SessionChanged != null) SessionChanged(tokens);
        }

        void ClearSession()
        {
            _tokens = null;
            _storage.Clear();
            if (SessionChanged != null) SessionChanged(null);
        }

        void RaiseSessionLost(ApiError error)
        {
            if (SessionLost != null) SessionLost(error);
        }
    }
}
