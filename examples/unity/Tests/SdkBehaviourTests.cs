// Behaviour tests for the Unity example SDK, run outside Unity by scripts/check_examples.sh:
//   mcs -out:/tmp/gp-unity-tests.exe examples/unity/**/*.cs && mono /tmp/gp-unity-tests.exe
// A fake server (IGamingPanelTransport) stands in for the backend, so the token rules, retries and
// idempotency keys are checked exactly as the game would exercise them. Not for Unity: compiled out there.
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;
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
            ct.ThrowIfCancellationRequested(); // as GamingPanelHttp: a cancelled request has no answer
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
            Run("payment_provider_unavailable ends the attempt: not retried, key forgotten, a new try has a new key", ProviderUnavailableEndsTheAttempt);
            Run("request_in_progress left after the retries keeps the key for the next try", RequestInProgressKeepsTheKey);
            Run("one pending purchase's transient error does not stop the others", ResumeGoesOnPastATransientError);
            Run("a refresh answer that is no refusal (HTML 403/404, 408, 2xx without tokens) keeps the session", RefreshNonRefusalKeepsSession);
            Run("one caller's cancellation does not cancel the shared refresh", SharedRefreshOutlivesACancelledCaller);
            Run("a refresh without a usable answer is sent again after 1 s and 2 s with the same token", RefreshRetriedPromptly);
            Run("refresh: a 429's or 503's Retry-After (up to 30 s) is waited in full (the wait injectable), then the same refresh token is sent again", RefreshWaitsOutRetryAfter);
            Run("refresh: a Retry-After over 30 s gives the 429 back at once, tokens kept, and no refresh (forced or not) goes before it has passed", RefreshGivesBackALongRetryAfter);
            Run("refresh: callers arriving while a refresh waits out a Retry-After share it: one resend, one new pair", CallersShareARefreshWaitingOutRetryAfter);
            Run("refresh: a 401 answering a resend ends the session (SessionLost), nothing sent after it", RefusalAnsweringAResendEndsTheSession);
            Run("refresh: a resend waiting out a Retry-After is not sent once a logout or a login replaced the session", NoResendAfterTheSessionChanged);
            Run("logout with an expired access token refreshes first and logs out with the new one", LogoutRefreshesAnExpiredToken);
            Run("a refresh still out at logout is discarded, not stored", RefreshAfterLogoutIsDiscarded);
            Run("remote config sends at most 4 numbers of at most 6 digits, or no version", ConfigVersionInTheServersForm);
            Run("match results and heartbeats leave out an unset mode and times", MatchResultLeavesOutUnsetFields);
            Run("the cache is swapped in one step and read from its temporary copy when the file is missing", CacheWritesAreAtomic);
            Run("analytics events wait offline on disk and go in batches of 100 with their ids", AnalyticsQueuedAndBatched);
            Run("analytics: 207 drops what the panel refused, 5xx keeps, a refused batch is dropped", AnalyticsAnswers);
            Run("analytics: answers that are not the panel's (an empty 2xx, a portal's page, a proxy's HTML 400) keep the batch", AnalyticsNotThePanelsAnswerKeepsTheBatch);
            Run("server heartbeat: at a third of ttl_seconds (10 s before the first answer), a failed beat again after 2 s, once", HeartbeatFollowsTheTtlAndRetriesOnce);
            Run("server heartbeat: 409 too_many_servers is reported and beaten again with backoff until a place frees", HeartbeatBacksOffOnTooManyServers);
            Run("server heartbeat: stopping waits for the beat and deregisters a listed server (only one)", HeartbeatStopDeregisters);
            Run("analytics: a queue file that cannot be read is moved aside, never written over by the next Track", AnalyticsUnreadableQueueIsSetAside);
            Run("analytics: events are stamped with the panel's clock (its Date header), not a device clock 10 minutes fast", AnalyticsStampedWithThePanelsClock);
            Run("analytics: Track keeps the queue in memory and writes it at most every 50 events or 2 s, not on each Track", AnalyticsTrackDoesNotRewriteTheQueue);
            Run("analytics: the queue keeps at most 4 MB, dropping the oldest events first", AnalyticsByteCapDropsTheOldest);
            Run("server calls: a Retry-After over 60 s ends the call at once with the error, not retried after 60 s", ServerCallsGiveBackALongRetryAfter);
            Run("server calls: a Retry-After of up to 60 s is waited in full (the wait injectable), without one 2, 4, 8 s", ServerCallsWaitTheWholeRetryAfter);
            Run("server heartbeat: a failed beat waits a 429's or 503's Retry-After (not the 2 s retry), and a longer wait is kept", HeartbeatWaitsForRetryAfter);
            Run("analytics: after a 429 or 503 with Retry-After no flush sends before it has passed; LastError says how long is left", AnalyticsWaitsForRetryAfter);
            foreach (KeyValuePair<string, Func<Task>> offline in OfflineSaveTests.Cases()) Run(offline.Key, offline.Value);
            foreach (KeyValuePair<string, Func<Task>> account in AccountDeletionTests.Cases()) Run(account.Key, account.Value);
            foreach (KeyValuePair<string, Func<Task>> race in RaceTests.Cases()) Run(race.Key, race.Value);
            foreach (KeyValuePair<string, Func<Task>> parity in KitParityTests.Cases()) Run(parity.Key, parity.Value);
            KitParityTests.Cleanup();
            try { if (Directory.Exists(TempRoot)) Directory.Delete(TempRoot, true); } catch (IOException) { }
            Console.WriteLine("unity sdk: " + _passed + " passed, " + _failed + " failed");
            return _failed == 0 ? 0 : 1;
        }

        static async Task AnalyticsQueuedAndBatched()
        {
            var server = new FakeServer();
            bool online = false;
            server.Handler = r => !online ? FakeResponse.Offline()
                : FakeResponse.Ok(202, "{\"accepted\":" + Json.GetArray(r.Body, "events").Count + ",\"duplicates\":0}");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            for (int n = 0; n < 250; n++)
                client.Analytics.Track("level_complete", new Dictionary<string, object> { { "level", n } });
            bool refused = false;
            try { client.Analytics.Track("Level Complete"); } catch (ArgumentException) { refused = true; }
            Check(refused, "a name the panel refuses is refused at once");

            Check(await client.Analytics.FlushAsync() == 0 && client.Analytics.Pending == 250, "offline: all kept");
            GamingPanelClient restarted = NewClientSharingCache(server, client); // the game was closed meanwhile
            online = true;
            int taken = await restarted.Analytics.FlushAsync();

            List<FakeRequest> sent = server.To("analytics/events").FindAll(r => r.Body != null);
            List<object> first = Json.GetArray(sent[sent.Count - 3].Body, "events");
            var ids = new HashSet<string>();
            foreach (FakeRequest request in sent.GetRange(sent.Count - 3, 3))
                foreach (object item in Json.GetArray(request.Body, "events"))
                    ids.Add(Json.GetString((Dictionary<string, object>)item, "event_id"));
            Check(taken == 250 && restarted.Analytics.Pending == 0, "all sent once online, after a restart");
            Check(Json.GetArray(sent[sent.Count - 1].Body, "events").Count == 50 && first.Count == 100, "batches of 100");
            Check(ids.Count == 250, "each event with its own id");
            var event0 = (Dictionary<string, object>)first[0];
            Check(Json.GetString(event0, "name") == "level_complete" && Json.GetDateTime(event0, "occurred_at").HasValue,
                "name and time sent");
        }

        /// <summary>
        /// A panel whose clock is 10 minutes behind the device's (a phone set forward to skip a game timer): every answer
        /// carries its Date, and POST analytics/events refuses, as the panel does, an event more than 5 minutes ahead
        /// of that clock or more than 7 days old (event_out_of_range, in a 207).
        /// </summary>
        static FakeServer PanelTenMinutesBehind(List<Dictionary<string, object>> taken, Func<bool> online)
        {
            var server = new FakeServer();
            server.Handler = r =>
            {
                if (!online()) return FakeResponse.Offline();
                DateTime panelNow = DateTime.UtcNow.AddMinutes(-10);
                var headers = new Dictionary<string, string> { { "date", panelNow.ToString("r", System.Globalization.CultureInfo.InvariantCulture) } };
                if (r.Path != "analytics/events") return new FakeResponse { Status = 200, Body = Stats, Headers = headers };
                var rejected = new List<string>();
                List<object> events = Json.GetArray(r.Body, "events");
                for (int index = 0; index < events.Count; index++)
                {
                    var item = (Dictionary<string, object>)events[index];
                    DateTime? at = Json.GetDateTime(item, "occurred_at");
                    if (!at.HasValue || at.Value > panelNow.AddMinutes(5) || at.Value < panelNow.AddDays(-7))
                        rejected.Add("{\"index\":" + index + ",\"code\":\"event_out_of_range\",\"detail\":\"d\"}");
                    else lock (taken) taken.Add(item);
                }
                int status = rejected.Count > 0 ? 207 : 202;
                return new FakeResponse
                {
                    Status = status, Headers = headers,
                    Body = "{\"accepted\":" + (events.Count - rejected.Count) + ",\"duplicates\":0,\"rejected\":[" + string.Join(",", rejected) + "]}",
                };
            };
            return server;
        }

        static async Task AnalyticsStampedWithThePanelsClock()
        {
            var taken = new List<Dictionary<string, object>>();
            bool online = false;
            FakeServer server = PanelTenMinutesBehind(taken, () => online);

            // An earlier run, offline all along: its event has the device's time (nothing told the panel's clock).
            GamingPanelClient earlier = NewClient(server, StoredSession(3600));
            earlier.Analytics.Track("from_last_run");
            Check(await earlier.Analytics.FlushAsync() == 0 && earlier.Analytics.Pending == 1, "offline: kept");

            online = true;
            GamingPanelClient client = NewClientSharingCache(server, earlier);
            client.Analytics.Track("before_any_answer"); // the device's time: the offset is not known yet
            await client.Player.GetStatsAsync();         // the first answer tells the panel's clock
            Check(client.Clock.Offset.HasValue && Math.Abs(client.Clock.Offset.Value.TotalMinutes + 10) < 0.1,
                "the offset learned from the Date header: 10 minutes behind");
            client.Analytics.Track("level_complete");
            int sent = await client.Analytics.FlushAsync();
            Check(client.Analytics.Rejected.Count == 0, "no event refused as event_out_of_range");
            Check(sent == 3 && client.Analytics.Pending == 0 && taken.Count == 3, "all three taken by the panel");

            DateTime panelNow = DateTime.UtcNow.AddMinutes(-10);
            foreach (Dictionary<string, object> item in taken)
            {
                DateTime at = Json.GetDateTime(item, "occurred_at").Value;
                Check(Math.Abs((at - panelNow).TotalSeconds) < 30,
                    Json.GetString(item, "name") + " stamped with the panel's clock (" + at.ToString("o") + ", panel " + panelNow.ToString("o") + ")");
            }
        }

        static GamingPanelClient NewClientSharingCache(FakeServer server, GamingPanelClient earlier)
        {
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            return new GamingPanelClient(config, StoredSession(3600), server, earlier.Cache);
        }

        static async Task AnalyticsAnswers()
        {
            var server = new FakeServer();
            int calls = 0;
            server.Handler = r =>
            {
                calls++;
                if (calls == 1) return FakeResponse.Problem(503, "service_unavailable");
                if (calls == 2)
                    return FakeResponse.Ok(207, "{\"accepted\":1,\"duplicates\":0,\"rejected\":[{\"index\":1,\"code\":\"reserved_event_name\",\"detail\":\"d\"}]}");
                return FakeResponse.Problem(400, "validation_error");
            };
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            client.Analytics.Track("tutorial_step");
            client.Analytics.Track("session_start"); // the panel's own fact: refused there, in a 207
            Check(await client.Analytics.FlushAsync() == 0 && client.Analytics.Pending == 2, "a 503 keeps the batch");
            Check(await client.Analytics.FlushAsync() == 1 && client.Analytics.Pending == 0, "207: sent and refused both leave");
            Check(client.Analytics.Rejected.Count == 1 && Json.GetString(client.Analytics.Rejected[0], "code") == "reserved_event_name",
                "the refusal is reported");
            client.Analytics.Track("level_start");
            Check(await client.Analytics.FlushAsync() == 0 && client.Analytics.Pending == 0, "a batch refused whole is dropped");

            bool tooBig = false;
            try { client.Analytics.Track("big", new Dictionary<string, object> { { "blob", new string('x', 5000) } }); }
            catch (ArgumentException) { tooBig = true; }
            Check(tooBig && client.Analytics.Pending == 0, "properties over 4096 bytes are refused at once");

            // Bodies over the panel's limit together: halves are sent until they fit.
            var sizes = new List<int>();
            server.Handler = r =>
            {
                int count = Json.GetArray(r.Body, "events").Count;
                sizes.Add(count);
                return count > 3 ? FakeResponse.Problem(413, "payload_too_large") : FakeResponse.Ok(202, "{\"accepted\":" + count + "}");
            };
            for (int n = 0; n < 10; n++) client.Analytics.Track("chunk");
            int sent = await client.Analytics.FlushAsync();
            Check(sent == 10 && client.Analytics.Pending == 0, "all sent in smaller batches after a 413");
            Check(sizes[0] == 10 && sizes[1] == 5 && sizes[2] == 2, "halved after each 413");
        }

        static async Task AnalyticsNotThePanelsAnswerKeepsTheBatch()
        {
            var answers = new Dictionary<string, FakeResponse>
            {
                { "an empty 202", FakeResponse.Ok(202, "") },
                { "an empty 204", FakeResponse.Ok(204, "") },
                { "a captive portal's HTML 200", FakeResponse.Ok(200, "<html>Sign in to the Wi-Fi</html>") },
                { "a 200 that is not the receipt", FakeResponse.Ok(200, "{\"status\":\"ok\"}") },
                { "a 202 without accepted", FakeResponse.Ok(202, "{\"queued\":true}") },
                { "a proxy's HTML 400", new FakeResponse { Status = 400, Body = "<html>400 Bad Request</html>" } },
                { "a proxy's 400 JSON without a code", new FakeResponse { Status = 400, Body = "{\"message\":\"Bad Request\"}" } },
            };
            foreach (KeyValuePair<string, FakeResponse> answer in answers)
            {
                var server = new FakeServer();
                bool proxied = true;
                server.Handler = r => proxied ? answer.Value
                    : FakeResponse.Ok(202, "{\"accepted\":" + Json.GetArray(r.Body, "events").Count + ",\"duplicates\":0}");
                GamingPanelClient client = NewClient(server, StoredSession(3600));
                client.Analytics.Track("level_start");
                client.Analytics.Track("level_complete");
                int taken = await client.Analytics.FlushAsync();
                Check(taken == 0 && client.Analytics.Pending == 2, "the batch kept after " + answer.Key);

                proxied = false;
                int later = await client.Analytics.FlushAsync();
                List<FakeRequest> sent = server.To("analytics/events");
                Check(later == 2 && client.Analytics.Pending == 0, "sent again once the panel answers, after " + answer.Key);
                Check(Json.Serialize(sent[0].Body) == Json.Serialize(sent[sent.Count - 1].Body), "the same events, with their ids, after " + answer.Key);
            }
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

        const string Checkout = "{\"purchase_id\":8,\"status\":\"pending\",\"payment\":{\"checkout_url\":\"https://pay.test/c/8\"}}";

        static async Task ProviderUnavailableEndsTheAttempt()
        {
            // The server stores this 503 against the key (the purchase ended, nothing charged) and answers it again
            // for that key for ever: docs/guide/errors.md says retry with a new key.
            var server = new FakeServer();
            int calls = 0;
            server.Handler = r => ++calls == 1 ? FakeResponse.Problem(503, ErrorCodes.PaymentProviderUnavailable, "0") : FakeResponse.Ok(202, Checkout);
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            ApiError error = null;
            try { await client.Shop.PurchaseAsync("gems-pack"); } catch (ApiError e) { error = e; }
            Check(error != null && error.Code == ErrorCodes.PaymentProviderUnavailable && error.EndsPurchaseAttempt, "the 503 reaches the game as the end of the attempt");
            Check(server.To("shop/purchase").Count == 1, "not sent again with its key");
            Check(!client.Shop.HasPendingPurchases, "the key is forgotten");

            PurchaseResult again = await client.Shop.PurchaseAsync("gems-pack"); // the game's "try again"
            List<FakeRequest> sent = server.To("shop/purchase");
            Check(sent.Count == 2 && sent[1].Header("Idempotency-Key") != sent[0].Header("Idempotency-Key"), "trying again is a new attempt with a new key");
            Check(again.Status == PurchaseStatus.Pending && again.CheckoutUrl == "https://pay.test/c/8" && !client.Shop.HasPendingPurchases, "which gets the checkout");
        }

        static async Task RequestInProgressKeepsTheKey()
        {
            // The first request with this key is still opening the checkout, longer than the automatic retries wait.
            var server = new FakeServer();
            int calls = 0;
            server.Handler = r => ++calls <= 3 ? FakeResponse.Problem(409, ErrorCodes.RequestInProgress, "0") : FakeResponse.Ok(202, Checkout);
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            ApiError error = null;
            try { await client.Shop.PurchaseAsync("gems-pack"); } catch (ApiError e) { error = e; }
            Check(error != null && error.Code == ErrorCodes.RequestInProgress && server.To("shop/purchase").Count == 3, "request_in_progress after the retries");
            Check(client.Shop.HasPendingPurchases, "the key is kept: nothing ended");

            PurchaseResult result = await client.Shop.PurchaseAsync("gems-pack");
            List<FakeRequest> sent = server.To("shop/purchase");
            Check(sent.Count == 4 && sent[3].Header("Idempotency-Key") == sent[0].Header("Idempotency-Key"), "the next try sends the same key");
            Check(result.Status == PurchaseStatus.Pending && result.CheckoutUrl == "https://pay.test/c/8" && !client.Shop.HasPendingPurchases, "and gets the checkout");
        }

        static async Task ResumeGoesOnPastATransientError()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(503, "service_unavailable", "0");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            foreach (string offer in new[] { "1", "2" })
            {
                try { await client.Shop.PurchaseAsync(offer); } catch (ApiError) { }
            }
            Check(client.Shop.HasPendingPurchases, "two purchases left pending");

            server.Handler = r => Json.GetString(r.Body, "offer_id") == "1"
                ? FakeResponse.Problem(503, "service_unavailable", "0")
                : FakeResponse.Ok(201, "{\"purchase_id\":12,\"status\":\"completed\",\"balances\":{\"gold\":5}}");
            client = NewClient(server, StoredSession(3600));
            List<PurchaseResult> resumed = await client.Shop.ResumePendingPurchasesAsync();
            Check(resumed.Count == 1 && resumed[0].PurchaseId == "12", "the second purchase is resumed after the first failed");
            Check(client.Shop.HasPendingPurchases, "the first stays pending for next time");
            await client.Shop.ResumePendingPurchasesAsync();
            List<FakeRequest> first = server.To("shop/purchase").FindAll(r => Json.GetString(r.Body, "offer_id") == "1");
            Check(first.TrueForAll(r => r.Header("Idempotency-Key") == first[0].Header("Idempotency-Key")), "with its own key every time");
        }

        static async Task RefreshNonRefusalKeepsSession()
        {
            var notRefusals = new Dictionary<string, FakeResponse>
            {
                { "HTML 403 from a proxy", new FakeResponse { Status = 403, Body = "<html><h1>403 Forbidden</h1></html>" } },
                { "HTML 404 from a proxy", new FakeResponse { Status = 404, Body = "<html>Not Found</html>" } },
                { "408", new FakeResponse { Status = 408, Body = "" } },
                { "200 that is not the token JSON", FakeResponse.Ok(200, "{\"status\":\"ok\"}") },
                { "200 that is not JSON", FakeResponse.Ok(200, "<html>captive portal</html>") },
                { "401 without a problem document", new FakeResponse { Status = 401, Body = "Unauthorized" } },
            };
            foreach (KeyValuePair<string, FakeResponse> answer in notRefusals)
            {
                var server = new FakeServer();
                server.Handler = r => answer.Value;
                var storage = StoredSession(-1);
                GamingPanelClient client = NewClient(server, storage);
                client.Auth.RefreshRetryDelays = new[] { TimeSpan.Zero, TimeSpan.Zero };
                ApiError lost = null;
                client.Auth.SessionLost += e => lost = e;
                await client.Auth.RefreshIfDueAsync(CancellationToken.None); // a transient failure: postponed, not thrown
                Check(storage.Load() != null && storage.Load().RefreshToken == "old-refresh" && client.Auth.HasSession && lost == null,
                    "the session kept after a " + answer.Key);
            }

            var banned = new FakeServer();
            banned.Handler = r => FakeResponse.Problem(403, ErrorCodes.PlayerBanned);
            var bannedStorage = StoredSession(-1);
            GamingPanelClient bannedClient = NewClient(banned, bannedStorage);
            ApiError bannedLost = null;
            bannedClient.Auth.SessionLost += e => bannedLost = e;
            try { await bannedClient.Auth.RefreshIfDueAsync(CancellationToken.None); } catch (ApiError) { }
            Check(bannedStorage.Load() == null && bannedLost != null && bannedLost.Code == ErrorCodes.PlayerBanned, "403 player_banned ends the session");
        }

        static async Task SharedRefreshOutlivesACancelledCaller()
        {
            var server = new FakeServer();
            var answer = new ManualResetEventSlim(false);
            server.Handler = r =>
            {
                if (r.Path != "auth/refresh") return FakeResponse.Ok(200, Stats);
                answer.Wait(TimeSpan.FromSeconds(10)); // the refresh is out until released
                return server.TokenPair();
            };
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            var leaving = new CancellationTokenSource();
            Task<string> first = client.Auth.GetAccessTokenAsync(leaving.Token);
            Task<string> second = client.Auth.GetAccessTokenAsync(CancellationToken.None);
            leaving.Cancel();
            bool stoppedAlone = false;
            try { await first; } catch (OperationCanceledException) { stoppedAlone = !second.IsCompleted; }
            Check(stoppedAlone, "the cancelled caller stops waiting while the refresh is still out");
            answer.Set();
            Check(await second == "access-1", "the other caller gets the rotated token");
            Check(storage.Load().RefreshToken == "refresh-2" && server.To("auth/refresh").Count == 1, "one refresh, its pair stored");
        }

        static async Task RefreshRetriedPromptly()
        {
            var server = new FakeServer();
            int refreshes = 0;
            server.Handler = r =>
            {
                refreshes++;
                if (refreshes == 1) return FakeResponse.Offline();                               // the answer was lost
                if (refreshes == 2) return FakeResponse.Problem(503, "service_unavailable");
                return server.TokenPair();
            };
            var storage = StoredSession(10);
            GamingPanelClient client = NewClient(server, storage);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await client.Auth.RefreshIfDueAsync(CancellationToken.None);
            clock.Stop();
            List<FakeRequest> sent = server.To("auth/refresh");
            Check(sent.Count == 3 && sent.TrueForAll(r => Json.GetString(r.Body, "refresh_token") == "old-refresh"), "sent three times with the same refresh token");
            Check(clock.Elapsed >= TimeSpan.FromSeconds(2.9) && clock.Elapsed < TimeSpan.FromSeconds(25), "after 1 s and 2 s, well within the server's 30 s grace");
            Check(storage.Load().RefreshToken == "refresh-2", "the pair of the answer that arrived is stored");

            // A call's own retries do not multiply refreshes: right after a refresh failed, callers get that failure.
            server.Handler = r => FakeResponse.Offline();
            storage = StoredSession(10);
            client = NewClient(server, storage);
            client.Auth.RefreshRetryDelays = new[] { TimeSpan.Zero, TimeSpan.Zero };
            int before = server.To("auth/refresh").Count;
            await client.Auth.RefreshIfDueAsync(CancellationToken.None);
            await client.Auth.RefreshIfDueAsync(CancellationToken.None);
            Check(server.To("auth/refresh").Count - before == 3 && storage.Load().RefreshToken == "old-refresh", "one refresh (three sends) inside RefreshBackoff, tokens kept");
        }

        /// <summary>TokenManager's clock and waits, faked: each wait is recorded and moves the clock at once.</summary>
        sealed class FakeRefreshClock
        {
            public TimeSpan Now = TimeSpan.FromHours(1);
            readonly List<double> _waits = new List<double>();
            public string Seen { get { lock (_waits) return string.Join(",", _waits); } }

            public static FakeRefreshClock Attach(TokenManager auth)
            {
                var clock = new FakeRefreshClock();
                auth.Elapsed = () => clock.Now;
                auth.Delay = (wait, ct) =>
                {
                    lock (clock._waits) clock._waits.Add(wait.TotalSeconds);
                    clock.Now += wait;
                    return Task.FromResult(true);
                };
                return clock;
            }
        }

        /// <summary>
        /// The panel answers POST auth/refresh 429 before it looks at the token (apps/login/api.py: the budgets are
        /// enforced first) and 503 when the rotation's transaction rolled back: nothing was rotated, so the same token
        /// goes again, after the whole Retry-After.
        /// </summary>
        static async Task RefreshWaitsOutRetryAfter()
        {
            var server = new FakeServer();
            var script = new Queue<FakeResponse>(new[]
            {
                FakeResponse.Problem(429, ErrorCodes.RateLimited, "30"), FakeResponse.Problem(503, "service_unavailable", "5"),
            });
            server.Handler = r => script.Count > 0 ? script.Dequeue() : server.TokenPair();
            var storage = StoredSession(10);
            GamingPanelClient client = NewClient(server, storage);
            FakeRefreshClock clock = FakeRefreshClock.Attach(client.Auth);
            TokenSet renewed = await client.Auth.RefreshAsync(CancellationToken.None);
            List<FakeRequest> sent = server.To("auth/refresh");
            Check(clock.Seen == "30,5", "the 429's 30 s and the 503's 5 s waited in full, not 1 s and 2 s: " + clock.Seen);
            Check(sent.Count == 3 && sent.TrueForAll(r => Json.GetString(r.Body, "refresh_token") == "old-refresh"),
                "sent again after each wait with the same refresh token");
            Check(renewed.RefreshToken == "refresh-2" && storage.Load().RefreshToken == "refresh-2", "the pair that came is stored");

            // No answer (the panel may have rotated the token), then a 429: 1 s, inside the panel's 30 s grace for a
            // token whose answer was lost, then the Retry-After.
            server = new FakeServer();
            script = new Queue<FakeResponse>(new[] { FakeResponse.Offline(), FakeResponse.Problem(429, ErrorCodes.RateLimited, "20") });
            server.Handler = r => script.Count > 0 ? script.Dequeue() : server.TokenPair();
            storage = StoredSession(10);
            client = NewClient(server, storage);
            clock = FakeRefreshClock.Attach(client.Auth);
            await client.Auth.RefreshAsync(CancellationToken.None);
            Check(clock.Seen == "1,20" && server.To("auth/refresh").Count == 3, "a lost answer is sent again after 1 s, a 429 after its 20 s: " + clock.Seen);
            Check(storage.Load().RefreshToken == "refresh-2", "and the pair stored");
        }

        static async Task RefreshGivesBackALongRetryAfter()
        {
            var server = new FakeServer();
            FakeResponse refusal = FakeResponse.Problem(429, ErrorCodes.RateLimited, "45");
            server.Handler = r => r.Path != "auth/refresh" ? FakeResponse.Ok(200, Stats) : refusal ?? server.TokenPair();
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            FakeRefreshClock clock = FakeRefreshClock.Attach(client.Auth);
            ApiError limited = null;
            try { await client.Auth.RefreshAsync(CancellationToken.None); } catch (ApiError e) { limited = e; }
            Check(limited != null && limited.Status == 429 && limited.Code == ErrorCodes.RateLimited && limited.RetryAfterSeconds == 45f,
                "the 429 given back with its Retry-After (45 s, more than the 30 s the kit waits)");
            Check(clock.Seen == "" && server.To("auth/refresh").Count == 1, "at once: sent once, nothing waited");
            Check(storage.Load().RefreshToken == "old-refresh" && client.Auth.HasSession, "the tokens kept");

            refusal = null; // the panel would answer now, but asked for 45 s of quiet
            clock.Now += TimeSpan.FromSeconds(10);
            ApiError early = null, forced = null;
            try { await client.Auth.RefreshAsync(CancellationToken.None); } catch (ApiError e) { early = e; }
            try { await client.Auth.RecoverFromUnauthorizedAsync("old-access", CancellationToken.None); } catch (ApiError e) { forced = e; }
            Check(server.To("auth/refresh").Count == 1, "10 s later no refresh is sent, neither by a caller nor forced by a call's 401");
            Check(early != null && early.Status == 429 && early.RetryAfterSeconds == 35f && forced != null && forced.Status == 429 && forced.RetryAfterSeconds == 35f,
                "each gets the 429 with the 35 s left");

            clock.Now += TimeSpan.FromSeconds(35);
            TokenSet renewed = await client.Auth.RefreshAsync(CancellationToken.None);
            Check(server.To("auth/refresh").Count == 2 && Json.GetString(server.To("auth/refresh")[1].Body, "refresh_token") == "old-refresh",
                "once it has passed, the refresh goes with the same token");
            Check(renewed.RefreshToken == "refresh-2" && storage.Load().RefreshToken == "refresh-2", "and its pair is stored");
        }

        static async Task CallersShareARefreshWaitingOutRetryAfter()
        {
            var server = new FakeServer();
            int refreshes = 0;
            server.Handler = r =>
            {
                if (r.Path != "auth/refresh") return FakeResponse.Ok(200, Stats);
                return Interlocked.Increment(ref refreshes) == 1 ? FakeResponse.Problem(429, ErrorCodes.RateLimited, "10") : server.TokenPair();
            };
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            var waiting = new TaskCompletionSource<bool>();
            var release = new TaskCompletionSource<bool>();
            var waits = new List<double>();
            client.Auth.Delay = (wait, ct) =>
            {
                lock (waits) waits.Add(wait.TotalSeconds);
                waiting.TrySetResult(true);
                return release.Task;
            };
            Task<Cached<PlayerStats>> first = client.Player.GetStatsAsync();
            await Task.WhenAny(waiting.Task, Task.Delay(TimeSpan.FromSeconds(5)));
            Check(waiting.Task.IsCompleted, "the refresh waits out the 429's Retry-After");
            Task<Cached<PlayerStats>> second = client.Player.GetStatsAsync();
            Task<string> third = client.Auth.GetAccessTokenAsync(CancellationToken.None);
            await Task.Delay(100);
            Check(server.To("auth/refresh").Count == 1 && !second.IsCompleted && !third.IsCompleted,
                "callers arriving during the wait join it: no second refresh");
            release.SetResult(true);
            await Task.WhenAll(first, second, third);
            Check(server.To("auth/refresh").Count == 2 && string.Join(",", waits) == "10", "one resend, after the 10 s, for every caller");
            Check(third.Result == "access-1" && server.To("player/stats").TrueForAll(r => r.Header("Authorization") == "Bearer access-1"),
                "every caller uses the one new pair");
        }

        static async Task RefusalAnsweringAResendEndsTheSession()
        {
            var server = new FakeServer();
            var script = new Queue<FakeResponse>(new[]
            {
                FakeResponse.Problem(503, "service_unavailable", "5"), FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused),
            });
            server.Handler = r => script.Count > 0 ? script.Dequeue() : server.TokenPair();
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            FakeRefreshClock clock = FakeRefreshClock.Attach(client.Auth);
            ApiError lost = null, thrown = null;
            client.Auth.SessionLost += e => lost = e;
            try { await client.Auth.RefreshAsync(CancellationToken.None); } catch (ApiError e) { thrown = e; }
            Check(clock.Seen == "5" && server.To("auth/refresh").Count == 2, "the 503's 5 s waited, then the same token sent again, and no more: " + clock.Seen);
            Check(thrown != null && thrown.Code == ErrorCodes.RefreshTokenReused && lost != null && lost.Code == ErrorCodes.RefreshTokenReused,
                "the 401 reaches the callers and SessionLost: the game logs in again");
            Check(storage.Load() == null && !client.Auth.HasSession, "the session is gone");
        }

        static async Task NoResendAfterTheSessionChanged()
        {
            foreach (bool logout in new[] { true, false })
            {
                var server = new FakeServer();
                server.Handler = r =>
                {
                    if (r.Path == "auth/refresh") return FakeResponse.Problem(503, "service_unavailable", "5");
                    if (r.Path == "auth/third-party/login") return server.TokenPair();
                    return FakeResponse.Ok(204, "");
                };
                var storage = StoredSession(60); // due, still valid: a logout needs no renewal
                GamingPanelClient client = NewClient(server, storage);
                var waiting = new TaskCompletionSource<bool>();
                var release = new TaskCompletionSource<bool>();
                client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return release.Task; };
                Task<TokenSet> refresh = client.Auth.RefreshAsync(CancellationToken.None);
                await Task.WhenAny(waiting.Task, Task.Delay(TimeSpan.FromSeconds(5)));
                string what = logout ? "a logout" : "a login";
                Check(waiting.Task.IsCompleted, "the refresh waits out the 503's Retry-After before " + what);
                if (logout) await client.LogoutAsync();
                else await client.LoginAsync(new DevCredentialProvider("tess"));
                release.SetResult(true);
                ApiError ended = null;
                try { await refresh; } catch (ApiError e) { ended = e; }
                Check(server.To("auth/refresh").Count == 1, "the old refresh token is not sent again after " + what);
                Check(ended != null && ended.Code == ErrorCodes.NotLoggedIn, "the refresh's callers hear its session ended (" + what + ")");
                Check(logout ? storage.Load() == null : storage.Load().RefreshToken == "refresh-2", "nothing of the old session stored after " + what);
            }

            // A logout whose access token expired waits for that refresh to log out with its token: it is still sent.
            var shared = new FakeServer();
            int refreshes = 0;
            shared.Handler = r =>
            {
                if (r.Path != "auth/refresh") return FakeResponse.Ok(204, "");
                return Interlocked.Increment(ref refreshes) == 1 ? FakeResponse.Problem(503, "service_unavailable", "5") : shared.TokenPair();
            };
            var expired = StoredSession(-1);
            GamingPanelClient renewing = NewClient(shared, expired);
            var held = new TaskCompletionSource<bool>();
            var go = new TaskCompletionSource<bool>();
            renewing.Auth.Delay = (wait, ct) => { held.TrySetResult(true); return go.Task; };
            Task<TokenSet> out1 = renewing.Auth.RefreshAsync(CancellationToken.None);
            await Task.WhenAny(held.Task, Task.Delay(TimeSpan.FromSeconds(5)));
            Task loggingOut = renewing.LogoutAsync();
            go.SetResult(true);
            await loggingOut;
            try { await out1; } catch (ApiError) { }
            Check(shared.To("auth/refresh").Count == 2 && shared.To("auth/logout").Count == 1 && shared.To("auth/logout")[0].Header("Authorization") == "Bearer access-1",
                "a logout renewing an expired token still gets the resend, and logs out with its token");
            Check(expired.Load() == null && !renewing.Auth.HasSession, "which is never stored");
        }

        static async Task LogoutRefreshesAnExpiredToken()
        {
            var server = new FakeServer();
            server.Handler = r => r.Path == "auth/refresh" ? server.TokenPair() : FakeResponse.Ok(204, "");
            var storage = StoredSession(-1);
            GamingPanelClient client = NewClient(server, storage);
            TokenSet lastChange = new TokenSet();
            client.Auth.SessionChanged += t => lastChange = t;
            await client.LogoutAsync();
            List<FakeRequest> logout = server.To("auth/logout");
            Check(server.To("auth/refresh").Count == 1 && Json.GetString(server.To("auth/refresh")[0].Body, "refresh_token") == "old-refresh", "refreshed first");
            Check(logout.Count == 1 && logout[0].Header("Authorization") == "Bearer access-1", "then logged out with the new access token");
            Check(storage.Load() == null && !client.Auth.HasSession && lastChange == null, "nothing stored: the session is gone");

            // Expired while a refresh is already out: the logout shares it (one refresh per refresh token).
            var shared = new FakeServer();
            var answer = new ManualResetEventSlim(false);
            shared.Handler = r =>
            {
                if (r.Path != "auth/refresh") return FakeResponse.Ok(204, "");
                answer.Wait(TimeSpan.FromSeconds(10));
                return shared.TokenPair();
            };
            var sharedStorage = StoredSession(-1);
            client = NewClient(shared, sharedStorage);
            Task<TokenSet> refresh = client.Auth.RefreshAsync(CancellationToken.None);
            Task logoutTask = client.LogoutAsync();
            answer.Set();
            await logoutTask;
            ApiError discarded = null;
            try { await refresh; } catch (ApiError e) { discarded = e; }
            Check(shared.To("auth/refresh").Count == 1 && shared.To("auth/logout")[0].Header("Authorization") == "Bearer access-1", "one refresh, its token used for the logout");
            Check(discarded != null && discarded.Code == ErrorCodes.NotLoggedIn && sharedStorage.Load() == null && !client.Auth.HasSession, "and its pair never stored");
        }

        static async Task RefreshAfterLogoutIsDiscarded()
        {
            var server = new FakeServer();
            var answer = new ManualResetEventSlim(false);
            server.Handler = r =>
            {
                if (r.Path != "auth/refresh") return FakeResponse.Ok(204, "");
                answer.Wait(TimeSpan.FromSeconds(10));
                return server.TokenPair();
            };
            var storage = StoredSession(60); // due (inside the margin), still valid
            GamingPanelClient client = NewClient(server, storage);
            Task<TokenSet> refresh = client.Auth.RefreshAsync(CancellationToken.None);
            await client.LogoutAsync();
            Check(server.To("auth/logout").Count == 1 && server.To("auth/logout")[0].Header("Authorization") == "Bearer old-access", "logged out at once with the live access token");
            answer.Set();
            ApiError discarded = null;
            try { await refresh; } catch (ApiError e) { discarded = e; }
            Check(discarded != null && discarded.Code == ErrorCodes.NotLoggedIn, "the refresh's answer is refused to its callers");
            Check(storage.Load() == null && !client.Auth.HasSession && client.Auth.PlayerId == null, "and never stored");
        }

        static async Task ConfigVersionInTheServersForm()
        {
            // apps/remoteconfig/resolver.py: VERSION = ^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$
            var serverForm = new Regex("^[0-9]{1,6}(\\.[0-9]{1,6}){0,3}$");
            var cases = new Dictionary<string, string>
            {
                { "1.2.3.4.5", "1.2.3.4" }, { "1.2.20240131", "1.2" }, { "123456.7", "123456.7" }, { "1234567", null },
                { "2024.1f1", "2024.1" }, { "v10.0.1-beta+42", "10.0.1" }, { "\u0661.\u0662", null }, { "..1", null },
            };
            foreach (KeyValuePair<string, string> c in cases)
            {
                string cut = RemoteConfigService.NumericVersion(c.Key);
                Check(cut == c.Value && (cut == null || serverForm.IsMatch(cut)), c.Key + " sent as " + (c.Value ?? "no header") + ", got " + (cut ?? "none"));
            }

            var server = new FakeServer();
            server.Handler = r => FakeResponse.Ok(200, "{\"version\":1,\"values\":{}}");
            var config = new RemoteConfigService(NewClient(server, StoredSession(3600)), "nightly-7", "ios");
            await config.GetAsync();
            Check(server.To("config")[0].Header("X-Client-Version") == null, "no version left: no header");
            config.ClientVersion = "2.0.0.0.1";
            await config.GetAsync();
            Check(server.To("config")[1].Header("X-Client-Version") == "2.0.0.0", "a version set later is cut too");
        }

        static async Task MatchResultLeavesOutUnsetFields()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Ok(200, "{}");
            var api = new GamingPanelServerApi(server, "demo-server-key");
            var match = new MatchResult { MatchId = "m-2" };
            match.Players.Add(new MatchPlayerResult { PlayerId = "7", Outcome = MatchOutcome.Draw });
            await api.PostMatchResultAsync(match);
            Dictionary<string, object> body = server.To("multiplayer/match-result")[0].Body;
            Check(!body.ContainsKey("mode") && !body.ContainsKey("started_at") && !body.ContainsKey("ended_at"), "no mode, started_at or ended_at");
            Check(Json.GetString(body, "match_id") == "m-2" && Json.GetArray(body, "players").Count == 1, "match_id and players");

            await api.SendHeartbeatAsync(new ServerStatus { ServerId = "eu-1", Region = "eu", Address = "203.0.113.5", Port = 7777, Capacity = 8 });
            Dictionary<string, object> beat = server.To("multiplayer/servers/heartbeat")[0].Body;
            Check(!beat.ContainsKey("mode") && !beat.ContainsKey("version"), "a heartbeat without mode or version leaves them out");
        }

        static Task CacheWritesAreAtomic()
        {
            string root = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            var cache = new LocalCache(root);
            string body;
            DateTime fetchedAt;
            cache.Save("7", "stats", "{\"a\":1}");
            cache.Save("7", "stats", "{\"a\":2}");
            string main = Path.Combine(Path.Combine(root, "7"), "stats.json");
            Check(cache.TryLoad("7", "stats", out body, out fetchedAt) && body == "{\"a\":2}", "the second save replaces the first");
            Check(File.Exists(main) && !File.Exists(main + ".tmp"), "no temporary file left behind");

            File.Move(main, main + ".tmp"); // a crash after the temporary copy was written, before it was swapped in
            Check(cache.TryLoad("7", "stats", out body, out fetchedAt) && body == "{\"a\":2}", "read from the temporary copy");
            cache.Save("7", "stats", "{\"a\":3}");
            Check(cache.TryLoad("7", "stats", out body, out fetchedAt) && body == "{\"a\":3}" && !File.Exists(main + ".tmp"), "the next save puts a main file back");
            return Task.FromResult(0);
        }

        /// <summary>Answers heartbeats from a script (then ttl 30), deregisters with 204; records the heartbeat's waits.</summary>
        sealed class HeartbeatRig
        {
            public readonly FakeServer Server = new FakeServer();
            public readonly List<TimeSpan> Waits = new List<TimeSpan>();
            public readonly TaskCompletionSource<bool> Done = new TaskCompletionSource<bool>();
            public ServerHeartbeat Heartbeat;

            public HeartbeatRig(int waitsBeforeDone, params FakeResponse[] beats)
            {
                var script = new Queue<FakeResponse>(beats);
                Server.Handler = r => r.Path == "multiplayer/servers/deregister" ? FakeResponse.Ok(204, "")
                    : script.Count > 0 ? script.Dequeue() : FakeResponse.Ok(200, "{\"server_id\":\"eu-1\",\"ttl_seconds\":30}");
                var api = new GamingPanelServerApi(Server, "demo-server-key");
                Heartbeat = new ServerHeartbeat(api, () => new ServerStatus { ServerId = "eu-1", Region = "eu-west", Address = "203.0.113.7", Port = 7777, Capacity = 16 },
                    (wait, ct) =>
                    {
                        lock (Waits)
                        {
                            Waits.Add(wait);
                            if (Waits.Count < waitsBeforeDone) return Task.FromResult(true);
                        }
                        Done.TrySetResult(true);
                        return Task.Delay(Timeout.Infinite, ct); // until stopped
                    });
            }

            public static FakeResponse Ttl(int seconds) { return FakeResponse.Ok(200, "{\"server_id\":\"eu-1\",\"ttl_seconds\":" + seconds + "}"); }

            public static FakeResponse TooManyServers()
            {
                return new FakeResponse
                {
                    Status = 409,
                    Body = "{\"type\":\"/docs/errors#too_many_servers\",\"title\":\"t\",\"status\":409,\"detail\":\"d\",\"code\":\"too_many_servers\",\"limit\":2}",
                };
            }

            public List<double> Seconds() { lock (Waits) return Waits.ConvertAll(w => w.TotalSeconds); }
        }

        static async Task HeartbeatFollowsTheTtlAndRetriesOnce()
        {
            var rig = new HeartbeatRig(8,
                FakeResponse.Offline(), FakeResponse.Offline(), HeartbeatRig.Ttl(30), FakeResponse.Offline(),
                HeartbeatRig.Ttl(60), FakeResponse.Problem(503, "service_unavailable"), FakeResponse.Problem(503, "service_unavailable"), HeartbeatRig.Ttl(30));
            var failures = new List<string>();
            rig.Heartbeat.BeatFailed += error => failures.Add(error.Code);
            Check(rig.Heartbeat.Interval == TimeSpan.FromSeconds(10), "10 s before the panel answered");
            rig.Heartbeat.Start();
            await rig.Done.Task;
            string waits = string.Join(",", rig.Seconds());
            Check(waits == "2,10,10,2,20,2,20,10", "waits of 2 after a first failure, then a third of the last ttl_seconds: " + waits);
            Check(failures.Count == 5 && rig.Heartbeat.Listed, "each failed beat is reported; listed again after the last");
            Check(rig.Server.To("multiplayer/servers/heartbeat").Count == 8, "one request per beat (no retries hidden inside a beat)");
            await rig.Heartbeat.StopAsync();
        }

        static async Task HeartbeatBacksOffOnTooManyServers()
        {
            var rig = new HeartbeatRig(7, HeartbeatRig.TooManyServers(), HeartbeatRig.TooManyServers(), HeartbeatRig.TooManyServers(),
                HeartbeatRig.TooManyServers(), HeartbeatRig.TooManyServers(), HeartbeatRig.Ttl(30), HeartbeatRig.TooManyServers());
            int reported = 0;
            rig.Heartbeat.TooManyServers += error => { reported++; Check(!rig.Heartbeat.Listed && error.Code == "too_many_servers", "not listed"); };
            rig.Heartbeat.Start();
            await rig.Done.Task;
            string waits = string.Join(",", rig.Seconds());
            Check(waits == "10,20,40,60,60,10,10", "backoff doubling up to a minute, reset once listed: " + waits);
            Check(reported == 6 && rig.Heartbeat.Limit == 2, "each 409 reported to the game, with the limit");
            await rig.Heartbeat.StopAsync();
        }

        static async Task HeartbeatStopDeregisters()
        {
            var never = new HeartbeatRig(1, HeartbeatRig.TooManyServers());
            never.Heartbeat.Start();
            await never.Done.Task;
            await never.Heartbeat.StopAsync();
            Check(never.Server.To("multiplayer/servers/deregister").Count == 0, "a server never listed is not deregistered");

            var rig = new HeartbeatRig(2);
            rig.Heartbeat.Start();
            await rig.Done.Task;
            await rig.Heartbeat.StopAsync();
            await rig.Heartbeat.StopAsync(); // twice: still one deregistration
            List<FakeRequest> deregistered = rig.Server.To("multiplayer/servers/deregister");
            Check(deregistered.Count == 1 && Json.GetString(deregistered[0].Body, "server_id") == "eu-1"
                && deregistered[0].Header("X-Server-Key") == "demo-server-key", "deregistered once, with the server key");
            FakeRequest last;
            lock (rig.Server.Requests) last = rig.Server.Requests[rig.Server.Requests.Count - 1];
            Check(last.Path == "multiplayer/servers/deregister", "no beat after the deregistration");
            Check(!rig.Heartbeat.Listed, "not listed after stopping");
        }

        static async Task AnalyticsUnreadableQueueIsSetAside()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Offline();
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            var client = new GamingPanelClient(config, StoredSession(3600), server, new LocalCache(dir));
            client.Analytics.Track("level_complete");
            client.Analytics.Track("level_complete");
            client.Analytics.SaveNow(); // as OnApplicationPause/Quit: Track alone writes in the background, later
            string file = Directory.GetFiles(dir, "analytics_queue.json", SearchOption.AllDirectories)[0];
            string cutShort = File.ReadAllText(file);
            cutShort = cutShort.Substring(0, cutShort.Length - 10);
            File.WriteAllText(file, cutShort);

            var restarted = new GamingPanelClient(config, StoredSession(3600), server, new LocalCache(dir));
            restarted.Analytics.Track("boss_defeated");
            restarted.Analytics.SaveNow();

            string[] aside = Directory.GetFiles(Path.GetDirectoryName(file), "analytics_queue_unreadable-*");
            Check(aside.Length == 1 && File.ReadAllText(aside[0]) == cutShort, "the unreadable queue is kept aside as it was");
            Check(restarted.Analytics.Pending == 1 && File.ReadAllText(file).Contains("boss_defeated"), "the new event goes to a new queue file");

            File.WriteAllText(file, "{\"fetched_at\":\"2026-01-01T00:00:00Z\",\"body\":\"{\\\"not\\\": \\\"a list\\\"}\"}");
            var again = new GamingPanelClient(config, StoredSession(3600), server, new LocalCache(dir));
            again.Analytics.Track("boss_defeated");
            Check(Directory.GetFiles(Path.GetDirectoryName(file), "analytics_queue_unreadable-*").Length >= 1
                && again.Analytics.Pending == 1, "a queue that is not a list is unreadable too, not an exception");
            await Task.Yield();
        }

        /// <summary>The events in the player's queue file on disk (-1: no file).</summary>
        static int QueuedOnDisk(LocalCache cache)
        {
            string body;
            DateTime at;
            return cache.TryLoad("7", "analytics_queue", out body, out at) ? ((List<object>)Json.Parse(body)).Count : -1;
        }

        static async Task AnalyticsTrackDoesNotRewriteTheQueue()
        {
            var server = new FakeServer();
            bool online = false;
            server.Handler = r => !online ? FakeResponse.Offline()
                : FakeResponse.Ok(202, "{\"accepted\":" + Json.GetArray(r.Body, "events").Count + ",\"duplicates\":0}");
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            var cache = new LocalCache(dir);
            var client = new GamingPanelClient(config, StoredSession(3600), server, cache);
            var props = new Dictionary<string, object> { { "blob", new string('x', 3000) } };
            client.Analytics.Track("level_complete", props);
            Check(await client.Analytics.FlushAsync() == 0 && QueuedOnDisk(cache) == 1, "a flush writes the queue (offline: kept)");

            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (int n = 0; n < 30; n++) client.Analytics.Track("level_complete", props);
            int onDisk = QueuedOnDisk(cache);
            Check(onDisk == 1 || watch.Elapsed > TimeSpan.FromSeconds(1.5), "30 quick Tracks do not rewrite the file (" + onDisk + " events on disk)");

            // Writes are bounded: one per 50 events (or per 2 s), in the background, however many events wait.
            int writes = client.Analytics.DiskWrites;
            watch.Restart();
            for (int n = 0; n < 500; n++) client.Analytics.Track("level_complete", props);
            double seconds = watch.Elapsed.TotalSeconds;
            await Task.Delay(300);
            int made = client.Analytics.DiskWrites - writes;
            Check(made >= 1 && made <= 500 / AnalyticsService.PersistEveryEvents + 2 + (int)(seconds / 2),
                "500 Tracks cause at most one write per 50 events or 2 s (" + made + " writes in " + seconds.ToString("0.00") + " s)");

            // Within PersistDelay of the last Track, everything is on disk without a flush (a crash loses at most that window).
            await Task.Delay(AnalyticsService.PersistDelay + TimeSpan.FromMilliseconds(700));
            Check(QueuedOnDisk(cache) == 531 && client.Analytics.Pending == 531, "all 531 events on disk " + AnalyticsService.PersistDelay.TotalSeconds + " s later (" + QueuedOnDisk(cache) + ")");

            client.Analytics.Track("boss_defeated");
            client.Analytics.SaveNow(); // OnApplicationPause(true) / OnApplicationQuit
            var restarted = new GamingPanelClient(config, StoredSession(3600), server, new LocalCache(dir));
            Check(restarted.Analytics.Pending == 532, "SaveNow: the queue survives a restart (" + restarted.Analytics.Pending + ")");

            online = true;
            int taken = await restarted.Analytics.FlushAsync();
            Check(taken == 532 && restarted.Analytics.Pending == 0 && QueuedOnDisk(restarted.Cache) == 0, "a flush takes them off the disk too");
            var again = new GamingPanelClient(config, StoredSession(3600), server, restarted.Cache);
            Check(again.Analytics.Pending == 0, "nothing sent again after a restart");
        }

        static async Task AnalyticsByteCapDropsTheOldest()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Offline();
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            var cache = new LocalCache(Path.Combine(TempRoot, Guid.NewGuid().ToString("N")));
            var client = new GamingPanelClient(config, StoredSession(3600), server, cache);
            // About 4 KB each: 1,200 of them are 4.7 MB, over the byte cap well before the count cap (2,000).
            for (int n = 0; n < 1200; n++)
                client.Analytics.Track("level_complete", new Dictionary<string, object> { { "n", n }, { "blob", new string('x', 4000) } });
            await client.Analytics.FlushAsync(); // offline: kept, and written
            int pending = client.Analytics.Pending;
            Check(pending < 1200 && pending > 900, "past 4 MB the queue drops events (" + pending + " kept)");

            var restarted = new GamingPanelClient(config, StoredSession(3600), server, cache);
            string body;
            DateTime at;
            Check(cache.TryLoad("7", "analytics_queue", out body, out at), "the queue is on disk");
            var queued = (List<object>)Json.Parse(body);
            long bytes = System.Text.Encoding.UTF8.GetByteCount(body);
            var first = Json.GetObject((Dictionary<string, object>)queued[0], "properties");
            var last = Json.GetObject((Dictionary<string, object>)queued[queued.Count - 1], "properties");
            Check(queued.Count == pending && restarted.Analytics.Pending == pending, "the capped queue survives a restart");
            Check(Convert.ToInt64(first["n"]) == 1200 - pending && Convert.ToInt64(last["n"]) == 1199, "the oldest went first, the newest are kept");
            Check(bytes <= AnalyticsService.MaxQueuedBytes + 4096, "at most 4 MB of events on disk (" + bytes + " bytes)");
        }

        static async Task ServerCallsGiveBackALongRetryAfter()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(429, ErrorCodes.RateLimited, "120");
            var api = new GamingPanelServerApi(server, "demo-server-key"); // the real Task.Delay: nothing may wait here
            var match = new MatchResult { MatchId = "m-3" };
            match.Players.Add(new MatchPlayerResult { PlayerId = "7", Outcome = MatchOutcome.Win });
            var watch = System.Diagnostics.Stopwatch.StartNew();
            ApiError limited = null;
            try { await api.PostMatchResultAsync(match); } catch (ApiError e) { limited = e; }
            Check(limited != null && limited.Status == 429 && limited.RetryAfterSeconds == 120f,
                "the 429 given back with its Retry-After (120 s), so the caller knows when to send the result again");
            Check(server.To("multiplayer/match-result").Count == 1 && watch.Elapsed < TimeSpan.FromSeconds(5),
                "sent once, at once: not retried after 60 s, half the wait the panel asked for");
        }

        static async Task ServerCallsWaitTheWholeRetryAfter()
        {
            var server = new FakeServer();
            var script = new Queue<FakeResponse>(new[]
            {
                FakeResponse.Problem(429, ErrorCodes.RateLimited, "45"), FakeResponse.Problem(503, "service_unavailable", "60"),
                FakeResponse.Offline(), FakeResponse.Problem(503, "service_unavailable"), FakeResponse.Ok(200, "{}"),
            });
            server.Handler = r => script.Dequeue();
            var waits = new List<double>();
            var api = new GamingPanelServerApi(server, "demo-server-key", (wait, ct) =>
            {
                waits.Add(wait.TotalSeconds);
                return Task.FromResult(true);
            });
            var match = new MatchResult { MatchId = "m-4" };
            match.Players.Add(new MatchPlayerResult { PlayerId = "7", Outcome = MatchOutcome.Loss });
            await api.PostMatchResultAsync(match);
            Check(string.Join(",", waits) == "45,60,8,16", "45 s and 60 s waited in full, then 8, 16 s without Retry-After: " + string.Join(",", waits));
            Check(server.To("multiplayer/match-result").Count == 5, "sent again after each wait, with the same match id");
        }

        static async Task HeartbeatWaitsForRetryAfter()
        {
            FakeResponse tooMany = HeartbeatRig.TooManyServers();
            tooMany.RetryAfter = "90";
            var rig = new HeartbeatRig(7, HeartbeatRig.Ttl(30), FakeResponse.Problem(429, ErrorCodes.RateLimited, "30"), HeartbeatRig.Ttl(30),
                FakeResponse.Problem(503, "service_unavailable", "5"), FakeResponse.Problem(503, "service_unavailable", "5"), HeartbeatRig.Ttl(30),
                tooMany);
            rig.Heartbeat.Start();
            await rig.Done.Task;
            string waits = string.Join(",", rig.Seconds());
            Check(waits == "10,30,10,5,10,10,90",
                "a 429's Retry-After (30 s) instead of the 2 s retry, a 503's 5 s, the interval when longer, 90 s after a 409: " + waits);
            Check(rig.Server.To("multiplayer/servers/heartbeat").Count == 7, "one request per beat");
            await rig.Heartbeat.StopAsync();
        }

        static async Task AnalyticsWaitsForRetryAfter()
        {
            var server = new FakeServer();
            FakeResponse refusal = FakeResponse.Problem(429, ErrorCodes.RateLimited, "120");
            server.Handler = r => refusal ?? FakeResponse.Ok(202, "{\"accepted\":" + Json.GetArray(r.Body, "events").Count + ",\"duplicates\":0}");
            GamingPanelClient client = NewClient(server, StoredSession(3600));
            TimeSpan now = TimeSpan.FromHours(1);
            client.Analytics.Elapsed = () => now;
            client.Analytics.Track("level_start");
            client.Analytics.Track("level_complete");
            Check(await client.Analytics.FlushAsync() == 0 && client.Analytics.Pending == 2, "a 429 keeps the batch");
            ApiError limited = client.Analytics.LastError;
            Check(limited != null && limited.Status == 429 && limited.RetryAfterSeconds == 120f, "LastError: the 429 with its Retry-After (120 s)");

            refusal = null; // the panel would take them now, but asked for 120 s of quiet
            now += TimeSpan.FromSeconds(30);
            int sentBefore = server.To("analytics/events").Count;
            Check(await client.Analytics.FlushAsync() == 0 && server.To("analytics/events").Count == sentBefore && client.Analytics.Pending == 2,
                "a flush 30 s later sends nothing");
            ApiError early = client.Analytics.LastError;
            Check(early != null && early.Status == 429 && early.Code == ErrorCodes.RateLimited && early.RetryAfterSeconds == 90f,
                "and answers the 429 again with the 90 s left");
            now += TimeSpan.FromSeconds(90);
            Check(await client.Analytics.FlushAsync() == 2 && client.Analytics.Pending == 0 && client.Analytics.LastError == null,
                "once it has passed, the flush sends them");

            client.Analytics.Track("level_start");
            refusal = FakeResponse.Problem(503, "service_unavailable", "5");
            await client.Analytics.FlushAsync();
            Check(client.Analytics.LastError != null && client.Analytics.LastError.RetryAfterSeconds == 5f, "a 503 with Retry-After: 5");
            refusal = null;
            now += TimeSpan.FromSeconds(4);
            Check(await client.Analytics.FlushAsync() == 0 && client.Analytics.LastError.RetryAfterSeconds == 1f, "not sent 4 s later: 1 s left");
            now += TimeSpan.FromSeconds(1);
            Check(await client.Analytics.FlushAsync() == 1, "sent 5 s later");

            client.Analytics.Track("level_start");
            refusal = FakeResponse.Problem(503, "service_unavailable");
            await client.Analytics.FlushAsync();
            Check(client.Analytics.LastError != null && client.Analytics.LastError.Status == 503 && !client.Analytics.LastError.RetryAfterSeconds.HasValue,
                "a 503 without Retry-After: LastError without a wait");
            refusal = null;
            Check(await client.Analytics.FlushAsync() == 1, "and the next flush sends");
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
