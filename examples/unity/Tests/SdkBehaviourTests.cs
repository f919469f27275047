// Behaviour tests for the Unity example SDK, run outside Unity by scripts/check_examples.sh:
//   mcs -out:/tmp/gp-unity-tests.exe examples/unity/**/*.cs && mono /tmp/gp-unity-tests.exe
// A fake server (IGamingPanelTransport) stands in for the backend, so the token rules, retries and
// idempotency keys are checked exactly as the game would exercise them. Not for Unity: compiled out there.
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using GamingPanel.Server;

namespace GamingPanel.Tests
{
    sealed class FakeRequest
    {
        public string Method, Path;
        public Dictionary<string, object> Body;
        public Dictionary<string, string> Headers;
        public string Header(string name) { string v; return Headers.TryGetValue(name, out v) ? v : null; }
    }

    /// <summary>Answers with a scripted function; throws ApiError like GamingPanelHttp does.</summary>
    sealed class FakeServer : IGamingPanelTransport
    {
        public readonly List<FakeRequest> Requests = new List<FakeRequest>();
        public Func<FakeRequest, FakeResponse> Handler;
        int _tokenCounter;

        public string NewToken(string prefix) { return prefix + Interlocked.Increment(ref _tokenCounter); }

        public async Task<HttpResult> SendAsync(string method, string path, object body, IDictionary<string, string> headers, CancellationToken ct)
        {
            await Task.Yield(); // like the network: never complete synchronously
            var request = new FakeRequest
            {
                Method = method, Path = path,
                Body = body == null ? null : (Dictionary<string, object>)Json.Parse(Json.Serialize(body)),
                Headers = headers == null ? new Dictionary<string, string>() : new Dictionary<string, string>(headers),
            };
            lock (Requests) Requests.Add(request);
            FakeResponse response = Handler(request);
            if (response.Network) throw ApiError.Network("fake: connection refused");
            if (response.Status >= 200 && response.Status < 300) return new HttpResult(response.Status, response.Body, response.Headers ?? new Dictionary<string, string>());
            throw ApiError.FromResponse(response.Status, response.Body, response.RetryAfter);
        }

        public List<FakeRequest> To(string path)
        {
            lock (Requests) return Requests.FindAll(r => r.Path == path);
        }

        public FakeResponse TokenPair()
        {
            return FakeResponse.Ok(200, "{\"access_token\":\"" + NewToken("access-") + "\",\"refresh_token\":\"" + NewToken("refresh-") +
                "\",\"token_type\":\"Bearer\",\"expires_in\":7200,\"refresh_expires_in\":2592000,\"player\":{\"id\":7,\"display_name\":\"Tess\",\"created\":false}}");
        }
    }

    sealed class FakeResponse
    {
        public int Status; public string Body = ""; public string RetryAfter; public bool Network;
        public Dictionary<string, string> Headers; // lower-case names, as GamingPanelHttp keeps them
        public static FakeResponse Ok(int status, string body) { return new FakeResponse { Status = status, Body = body }; }
        public static FakeResponse Problem(int status, string code, string retryAfter = null)
        {
            return new FakeResponse
            {
                Status = status, RetryAfter = retryAfter,
                Body = "{\"type\":\"/docs/errors#" + code + "\",\"title\":\"t\",\"status\":" + status + ",\"detail\":\"d\",\"code\":\"" + code + "\"}",
            };
        }
        public static FakeResponse Offline() { return new FakeResponse { Network = true }; }
    }

    static class SdkBehaviourTests
    {
        static readonly string TempRoot = Path.Combine(Path.GetTempPath(), "gp-unity-tests-" + Guid.NewGuid().ToString("N"));
        const string Stats = "{\"player_id\":7,\"level\":3,\"xp\":250,\"xp_to_next_level\":50,\"stats\":{\"kills\":12,\"accuracy\":0.5}}";
        static int _passed, _failed;

        static int Main()
        {
            Run("login sends game key and platform, stores the session", LoginStoresSession);
            Run("refreshes shortly before expiry and uses the new token", RefreshesBeforeExpiry);
            Run("401 token_expired refreshes and retries exactly once", RetriesOnceOnTokenExpired);
            Run("concurrent calls share one refresh", SingleFlightRefresh);
            Run("offline refresh keeps tokens and serves the cache", OfflineKeepsTokensAndUsesCache);
            Run("refused refresh token logs in again with the provider", RefusedRefreshLogsInAgain);
            Run("refused refresh without provider raises SessionLost", RefusedRefreshWithoutProviderLosesSession);
            Run("purchase retries reuse one Idempotency-Key", PurchaseRetriesReuseKey);
            Run("unresolved purchase resumes with the same key", PendingPurchaseResumesWithSameKey);
            Run("definitive purchase error forgets the key", DefinitiveErrorForgetsKey);
            Run("real-money purchase returns pending checkout", RealMoneyPurchaseIsPending);
            Run("a purchase still in progress is retried with its key", PurchaseInProgressIsRetried);
            Run("already_claimed is reported, not thrown", AlreadyClaimedIsReported);
            Run("problem JSON becomes a typed ApiError", ProblemJsonIsTyped);
            Run("server helper validates tokens and posts match results", ServerHelper);
            Run("store account token is the server's UUIDv5 of the player id", StoreAccountTokenMatchesServer);
            Run("receipts are redeemed in the store's shape and retried when transient", ReceiptsAreRedeemed);
            foreach (KeyValuePair<string, Func<Task>> offline in OfflineSaveTests.Cases()) Run(offline.Key, offline.Value);
            try { if (Directory.Exists(TempRoot)) Directory.Delete(TempRoot, true); } catch (IOException) { }
            Console.WriteLine("unity sdk: " + _passed + " passed, " + _failed + " failed");
            return _failed == 0 ? 0 : 1;
        }

        static void Run(string name, Func<Task> test)
        {
            UnityEngine.PlayerPrefs.DeleteAll();
            try
            {
                if (!test().Wait(TimeSpan.FromSeconds(30))) throw new Exception("timed out");
                _passed++;
                Console.WriteLine("  ok   " + name);
            }
            catch (Exception e)
            {
                _failed++;
                Console.WriteLine("  FAIL " + name + ": " + UnityAsyncExtensions.Unwrap(e).Message);
            }
        }

        static void Check(bool condition, string what)
        {
            if (!condition) throw new Exception("expected " + what);
        }

        static GamingPanelClient NewClient(FakeServer server, ITokenStorage storage = null)
        {
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            string cacheDir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            return new GamingPanelClient(config, storage ?? new MemoryTokenStorage(), server, new LocalCache(cacheDir));
        }

        /// <summary>A session whose access token expires in `seconds`.</summary>
        static MemoryTokenStorage StoredSession(double seconds, string access = "old-access", string refresh = "old-refresh")
        {
            var storage = new MemoryTokenStorage();
            storage.Save(new TokenSet
            {
                AccessToken = access, RefreshToken = refresh, PlayerId = "7", DisplayName = "Tess",
                AccessExpiresAtUtc = DateTime.UtcNow.AddSeconds(seconds), RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(20),
            });
            return storage;
        }

        static async Task LoginStoresSession()
        {
            var server = new FakeServer();
            server.Handler = r => server.TokenPair();
            var storage = new MemoryTokenStorage();
            GamingPanelClient client = NewClient(server, storage);
            LoginResult login = await client.LoginAsync(new DevCredentialProvider("tess", "Tess"));
            FakeRequest sent = server.To("auth/third-party/login")[0];
            Check(sent.Header("X-Game-Key") == "demo-client-key", "X-Game-Key header");
            Check(Json.GetString(sent.Body, "platform") == "dev", "platform dev");
            Check(Json.GetString(Json.GetObject(sent.Body, "credentials"), "user_id") == "tess", "credentials.user_id");
            Check(login.PlayerId == "7" && login.DisplayName == "Tess", "player in the result");
            Check(storage.Load() != null && storage.Load().RefreshToken == "refresh-2", "persisted refresh token");
        }

        static async Task RefreshesBeforeExpiry()
        {
            var server = new FakeServer();
            server.Handler = r => r.Path == "auth/refresh" ? server.TokenPair() : FakeResponse.Ok(200, Stats);
            var storage = StoredSession(120); // inside the 5-minute margin
            GamingPanelClient client = NewClient(server, storage);
            Cached<PlayerStats> stats = await client.Player.GetStatsAsync();
            Check(server.To("auth/refresh").Count == 1, "one refresh");
            Check(Json.GetString(server.To("auth/refresh")[0].Body, "refresh_token") == "old-refresh", "old refresh token sent");
            Check(server.To("player/stats")[0].Header("Authorization") == "Bearer access-1", "new access token used");
            Check(storage.Load().RefreshToken == "refresh-2", "rotated refresh token persisted");
            Check(stats.Value.Level == 3 && stats.Value.Stat("accuracy") == 0.5 && !stats.FromCache, "parsed stats");
        }

        static async Task RetriesOnceOnTokenExpired()
        {
            var server = new FakeServer();
            server.Handler = r => r.Path == "auth/refresh" ? server.TokenPair() : FakeResponse.Problem(401, ErrorCodes.TokenExpired);
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            ApiError error = null;
            try { await client.Player.GetStatsAsync(); } catch (ApiError e) { error = e; }
            Check(error != null && error.Code == ErrorCodes.TokenExpired, "the second 401 reaches the caller");
            Check(server.To("player/stats").Count == 2, "exactly one retry");
            Check(server.To("auth/refresh").Count == 1, "one refresh");
            Check(server.To("player/stats")[1].Header("Authorization") == "Bearer access-1", "retry with the new token");
        }

        static async Task SingleFlightRefresh()
        {
            var server = new FakeServer();
            server.Handler = r => r.Path == "auth/refresh" ? server.TokenPair() : FakeResponse.Ok(200, Stats);
            GamingPanelClient client = NewClient(server, StoredSession(10));
            await Task.WhenAll(client.Player.GetStatsAsync(), client.Player.GetStatsAsync(), client.Player.GetStatsAsync());
            Check(server.To("auth/refresh").Count == 1, "a single refresh for three calls, got " + server.To("auth/refresh").Count);
        }

        static async Task OfflineKeepsTokensAndUsesCache()
        {
            var server = new FakeServer();
            bool online = true;
            server.Handler = r => !online ? FakeResponse.Offline() : FakeResponse.Ok(200, Stats);
            var storage = StoredSession(3600);
            GamingPanelClient client = NewClient(server, storage);
            await client.Player.GetStatsAsync(); // fills the cache

            online = false;
            storage.Save(new TokenSet
            {
                AccessToken = "expired", RefreshToken = "still-good", PlayerId = "7",
                AccessExpiresAtUtc = DateTime.UtcNow.AddSeconds(-5), RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(5),
            });
            client = NewClientSharingCache(server, storage, client);
            Cached<PlayerStats> stats = await client.Player.GetStatsAsync();
            Check(stats.FromCache && stats.Value.Level == 3 && stats.Error.Code == ErrorCodes.NetworkError, "stats from the cache");
            Check(storage.Load() != null && storage.Load().RefreshToken == "still-good", "tokens kept while offline");
            Check(client.Auth.HasSession, "still logged in");
        }

        static GamingPanelClient NewClientSharingCache(FakeServer server, ITokenStorage storage, GamingPanelClient previous)
        {
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            config.maxTransientRetries = 0;
            return new GamingPanelClient(config, storage, server, previous.Cache);
        }

        static async Task RefusedRefreshLogsInAgain()
        {
            var server = new FakeServer();
            server.Handler = r =>
            {
                if (r.Path == "auth/refresh") return FakeResponse.Problem(401, ErrorCodes.TokenRevoked);
                if (r.Path == "auth/third-party/login") return server.TokenPair();
                return FakeResponse.Ok(200, Stats);
            };
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            client.Auth.CredentialProvider = new DevCredentialProvider("tess");
            await client.Player.GetStatsAsync();
            Check(server.To("auth/third-party/login").Count == 1, "a new login");
            Check(server.To("player/stats")[0].Header("Authorization") == "Bearer access-1", "the new session's token");
            Check(storage.Load().RefreshToken == "refresh-2", "the new session persisted");
        }

        static async Task RefusedRefreshWithoutProviderLosesSession()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(401, ErrorCodes.TokenRevoked);
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            ApiError lost = null, thrown = null;
            client.Auth.SessionLost += e => lost = e;
            try { await client.Player.GetStatsAsync(); } catch (ApiError e) { thrown = e; }
            Check(thrown != null && lost != null && lost.Code == ErrorCodes.TokenRevoked, "SessionLost with the server's code");
            Check(storage.Load() == null && !client.Auth.HasSession, "session cleared");
        }

        static async Task PurchaseRetriesReuseKey()
        {
            var server = new FakeServer();
            int attempts = 0;
            server.Handler = r =>
            {
                if (r.Path == "auth/refresh") return server.TokenPair();
                attempts++;
                if (attempts == 1) return FakeResponse.Problem(503, "service_unavailable", "0");
                if (attempts == 2) return FakeResponse.Problem(401, ErrorCodes.TokenExpired);
                return FakeResponse.Ok(201, "{\"purchase_id\":99,\"status\":\"completed\",\"balances\":{\"gold\":380}}");
            };
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            PurchaseResult result = await client.Shop.PurchaseAsync("12", 2);
            List<FakeRequest> sent = server.To("shop/purchase");
            Check(sent.Count == 3, "three attempts");
            string key = sent[0].Header("Idempotency-Key");
            Check(!string.IsNullOrEmpty(key) && sent.TrueForAll(r => r.Header("Idempotency-Key") == key), "one key for every attempt");
            Check(Json.GetLong(sent[0].Body, "offer_id") == 12 && Json.GetLong(sent[0].Body, "quantity") == 2, "numeric offer id and quantity");
            Check(result.Status == PurchaseStatus.Completed && result.Balances["gold"] == 380 && result.PurchaseId == "99", "completed result");
            Check(!client.Shop.HasPendingPurchases, "nothing left pending");
        }

        static async Task PendingPurchaseResumesWithSameKey()
        {
            var server = new FakeServer();
            bool online = false;
            server.Handler = r => online ? FakeResponse.Ok(201, "{\"purchase_id\":5,\"status\":\"completed\",\"balances\":{}}") : FakeResponse.Problem(503, "service_unavailable", "0");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            ApiError error = null;
            try { await client.Shop.PurchaseAsync("12"); } catch (ApiError e) { error = e; }
            Check(error != null && error.IsTransient && client.Shop.HasPendingPurchases, "kept pending after transient failures");

            online = true;
            client = NewClient(server, StoredSession(3600)); // e.g. the game restarted
            List<PurchaseResult> resumed = await client.Shop.ResumePendingPurchasesAsync();
            List<FakeRequest> sent = server.To("shop/purchase");
            string key = sent[0].Header("Idempotency-Key");
            Check(resumed.Count == 1 && sent[sent.Count - 1].Header("Idempotency-Key") == key, "resumed with the original key");
            Check(!client.Shop.HasPendingPurchases, "resolved");

            await client.Shop.PurchaseAsync("12");
            Check(server.To("shop/purchase")[sent.Count].Header("Idempotency-Key") != key, "a new tap gets a new key");
        }

        static async Task DefinitiveErrorForgetsKey()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(409, ErrorCodes.InsufficientFunds);
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            ApiError error = null;
            try { await client.Shop.PurchaseAsync("12"); } catch (ApiError e) { error = e; }
            Check(error != null && error.Code == ErrorCodes.InsufficientFunds && error.Status == 409, "insufficient_funds thrown");
            Check(server.To("shop/purchase").Count == 1, "not retried");
            Check(!client.Shop.HasPendingPurchases, "key forgotten");
        }

        static async Task PurchaseInProgressIsRetried()
        {
            // The first request with this key is still opening the checkout: the panel answers 409
            // request_in_progress with Retry-After, and the same request, same key, answers the checkout.
            var server = new FakeServer();
            int calls = 0;
            server.Handler = r => ++calls == 1
                ? FakeResponse.Problem(409, ErrorCodes.RequestInProgress, "0")
                : FakeResponse.Ok(202, "{\"purchase_id\":8,\"status\":\"pending\",\"payment\":{\"checkout_url\":\"https://pay.test/c/8\"}}");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            PurchaseResult result = await client.Shop.PurchaseAsync("gems-pack");
            List<FakeRequest> sent = server.To("shop/purchase");
            Check(result.Status == PurchaseStatus.Pending && result.CheckoutUrl == "https://pay.test/c/8", "checkout after the retry");
            Check(sent.Count == 2 && sent[0].Header("Idempotency-Key") == sent[1].Header("Idempotency-Key"), "same key");
            Check(ApiError.FromResponse(409, "{\"code\":\"insufficient_funds\",\"status\":409}", null).IsTransient == false, "other 409s are final");
        }

        static async Task RealMoneyPurchaseIsPending()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Ok(202, "{\"purchase_id\":8,\"status\":\"pending\",\"payment\":{\"checkout_url\":\"https://pay.test/c/8\"}}");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            PurchaseResult result = await client.Shop.PurchaseAsync("gems-pack");
            Check(result.Status == PurchaseStatus.Pending && result.CheckoutUrl == "https://pay.test/c/8", "pending with checkout url");
            Check(Json.GetString(server.To("shop/purchase")[0].Body, "offer_id") == "gems-pack", "string offer id kept a string");
        }

        static async Task AlreadyClaimedIsReported()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(409, ErrorCodes.AlreadyClaimed);
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            ClaimResult claim = await client.Events.ClaimRewardAsync("3", "4");
            Check(claim.AlreadyClaimed, "AlreadyClaimed");
        }

        static Task ProblemJsonIsTyped()
        {
            ApiError error = ApiError.FromResponse(429,
                "{\"type\":\"/docs/errors#rate_limited\",\"title\":\"Too many\",\"status\":429,\"detail\":\"Slow down\",\"code\":\"rate_limited\"}", "17");
            Check(error.Code == ErrorCodes.RateLimited && error.RetryAfterSeconds == 17f && error.IsTransient && error.Detail == "Slow down", "typed fields");
            ApiError html = ApiError.FromResponse(502, "<html>bad gateway</html>", null);
            Check(html.Code == "server_error" && html.IsTransient, "non-JSON error body handled");
            return Task.FromResult(0);
        }

        static Task StoreAccountTokenMatchesServer()
        {
            // Values from the server's apps.payments.providers.base.player_account_token.
            Check(StoreAccountToken.ForPlayer("42") == "899409a3-857b-5c2f-af3e-a4322d42bee8", "token of player 42");
            Check(StoreAccountToken.ForPlayer("123456789") == "0eabb5ca-b35f-5361-b2be-5b0ba01f7daf", "token of player 123456789");
            GamingPanelClient client = NewClient(new FakeServer(), StoredSession(3600));
            Check(client.Shop.AccountToken == "34e9da76-33d4-59f4-a54e-360b4ed42d19", "logged-in player 7's token");
            Check(NewClient(new FakeServer()).Shop.AccountToken == null, "no token before login");
            return Task.FromResult(0);
        }

        static async Task ReceiptsAreRedeemed()
        {
            var server = new FakeServer();
            int calls = 0;
            server.Handler = r => ++calls == 1
                ? FakeResponse.Problem(503, "payment_provider_unavailable", "0")
                : FakeResponse.Ok(201, "{\"purchase_id\":9,\"status\":\"completed\",\"balances\":{\"gems\":100},\"granted\":[],\"transaction_id\":\"2000000123\"}");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            PurchaseResult result = await client.Shop.RedeemReceiptAsync("apple", "12", StoreReceipts.AppleTransactionId("2000000123"));
            Check(result.Status == PurchaseStatus.Completed && result.Balances["gems"] == 100, "granted");
            List<FakeRequest> sent = server.To("shop/receipts");
            Check(sent.Count == 2, "retried once after the 503");
            Check(Json.GetString(sent[1].Body, "provider") == "apple", "provider");
            Check(Json.GetString(Json.GetObject(sent[1].Body, "receipt"), "transaction_id") == "2000000123", "StoreKit 1 receipt shape");

            server.Handler = r => FakeResponse.Problem(403, ErrorCodes.ReceiptAccountMismatch);
            ApiError error = null;
            try { await client.Shop.RedeemReceiptAsync("google_play", "12", StoreReceipts.GooglePlayPurchaseToken("tok-1")); }
            catch (ApiError e) { error = e; }
            Check(error != null && error.Code == ErrorCodes.ReceiptAccountMismatch && !error.IsTransient, "mismatch is final");
            Check(Json.GetString(Json.GetObject(server.To("shop/receipts")[2].Body, "receipt"), "purchase_token") == "tok-1", "Google receipt shape");
        }

        static async Task ServerHelper()
        {
            var server = new FakeServer();
            int matchAttempts = 0;
            server.Handler = r =>
            {
                if (r.Path == "multiplayer/validate-token")
                    return FakeResponse.Ok(200, "{\"valid\":true,\"player_id\":7,\"game_id\":1,\"permissions\":[\"play\"],\"expires_at\":\"2030-01-01T00:00:00Z\",\"player\":{\"display_name\":\"Tess\",\"level\":3,\"banned\":false}}");
                matchAttempts++;
                return matchAttempts == 1 ? FakeResponse.Problem(503, "service_unavailable", "0") : FakeResponse.Ok(200, "{}");
            };
            var api = new GamingPanelServerApi(server, "demo-server-key");
            TokenValidation validation = await api.ValidateTokenAsync("player-access");
            Check(validation.MayJoin && validation.PlayerId == "7" && validation.Level == 3 && validation.Permissions.Contains("play"), "validation parsed");
            Check(server.To("multiplayer/validate-token")[0].Header("X-Server-Key") == "demo-server-key", "server key header");

            var match = new MatchResult { MatchId = "m-1", Mode = "duel", StartedAtUtc = DateTime.UtcNow.AddMinutes(-5), EndedAtUtc = DateTime.UtcNow };
            match.Players.Add(new MatchPlayerResult { PlayerId = "7", Outcome = MatchOutcome.Win, Score = 10, Stats = new Dictionary<string, long> { { "kills", 3 } } });
            await api.PostMatchResultAsync(match);
            List<FakeRequest> posts = server.To("multiplayer/match-result");
            Check(posts.Count == 2 && Json.GetString(posts[1].Body, "match_id") == "m-1", "retried with the same match id");
            var player = (Dictionary<string, object>)Json.GetArray(posts[0].Body, "players")[0];
            Check(Json.GetString(player, "outcome") == "win" && Json.GetObject(player, "stats")["kills"] is long, "outcome and integer stats");
        }
    }
}
#endif
