// Behaviour tests for what the Unity kit must answer as the Unreal kit does (run with the SDK tests by
// scripts/check_examples.sh): the HTTP status decides an error, a cloud-save refresh whose 2xx is not the list (an
// array with an item that is not a document included) serves the synced copies as the cache, every cached copy
// says when it was read from the panel, and remote config reads its answers as the Unreal kit's
// FGamingPanelRemoteConfigCache does (Tests/CloudSaveQueueTest.cpp there).
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

namespace GamingPanel.Tests
{
    static class KitParityTests
    {
        static readonly string TempRoot = Path.Combine(Path.GetTempPath(), "gp-unity-parity-" + Guid.NewGuid().ToString("N"));
        const string Stats = "{\"player_id\":7,\"level\":3,\"xp\":250,\"xp_to_next_level\":50,\"stats\":{\"kills\":12}}";

        public static IEnumerable<KeyValuePair<string, Func<Task>>> Cases()
        {
            yield return Case("errors: Status is the HTTP status; a body whose \"status\" disagrees changes nothing", ErrorStatusIsTheHttpStatus);
            yield return Case("cloud save: a refresh answered by a 2xx that is not the list serves the synced copies as the cache, with invalid_response", RefreshNotTheListServesTheCache);
            yield return Case("remote config and cloud save: a cached copy says when it was read from the panel (FetchedAtUtc)", CachedCopiesCarryTheirFetchTime);
            yield return Case("cloud save: a list with an item that is not a document is not the list: the synced copies as the cache, with invalid_response", RefreshListWithAnItemThatIsNotADocument);
            yield return Case("remote config: a 304 moves the copy's fetch time, kept across a restart (FetchedAtUtc)", ConfigNotModifiedMovesTheFetchTime);
            yield return Case("remote config: a 200 that is not the config (not an object, values or version missing or of another type) keeps the copy and its time, with invalid_response", ConfigNotTheConfigKeepsTheCopy);
            yield return Case("remote config: a 429 or 503 with a long Retry-After serves the copy with RetryAfterSeconds, copy and time unchanged", ConfigRetryAfterServesTheCopy);
        }

        public static void Cleanup()
        {
            try { if (Directory.Exists(TempRoot)) Directory.Delete(TempRoot, true); } catch (IOException) { }
        }

        static KeyValuePair<string, Func<Task>> Case(string name, Func<Task> test)
        {
            return new KeyValuePair<string, Func<Task>>(name, test);
        }

        static void Check(bool condition, string what)
        {
            if (!condition) throw new Exception("expected " + what);
        }

        static GamingPanelClient NewClient(IGamingPanelTransport server, string cacheDir)
        {
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            var storage = new MemoryTokenStorage();
            storage.Save(new TokenSet
            {
                AccessToken = "access", RefreshToken = "refresh", PlayerId = "7", DisplayName = "Tess",
                AccessExpiresAtUtc = DateTime.UtcNow.AddHours(1), RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(20),
            });
            return new GamingPanelClient(config, storage, server, new LocalCache(cacheDir));
        }

        static string NewDir()
        {
            return Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
        }

        /// <summary>`at` lies between `before` and `after` (a second either side: stored times keep milliseconds).</summary>
        static bool Within(DateTime at, DateTime before, DateTime after)
        {
            return at >= before.AddSeconds(-1) && at <= after.AddSeconds(1);
        }

        static FakeResponse ProblemWithStatus(int httpStatus, int bodyStatus, string code)
        {
            return new FakeResponse
            {
                Status = httpStatus, RetryAfter = "0", // the kit's automatic retries go at once
                Body = "{\"type\":\"/docs/errors#" + code + "\",\"title\":\"t\",\"status\":" + bodyStatus + ",\"detail\":\"d\",\"code\":\"" + code + "\"}",
            };
        }

        static async Task ErrorStatusIsTheHttpStatus()
        {
            ApiError gateway = ApiError.FromResponse(503, "{\"status\":400,\"code\":\"maintenance\",\"title\":\"t\",\"detail\":\"d\"}", null);
            Check(gateway.Status == 503 && gateway.IsTransient && gateway.Code == "maintenance", "a 503 whose body says 400 is a transient 503");
            ApiError refused = ApiError.FromResponse(400, "{\"status\":503,\"code\":\"validation_error\",\"title\":\"t\",\"detail\":\"d\"}", null);
            Check(refused.Status == 400 && !refused.IsTransient && refused.EndsPurchaseAttempt, "a 400 whose body says 503 is a 400");
            ApiError banned = ApiError.FromResponse(502, "{\"status\":403,\"code\":\"player_banned\"}", null);
            Check(banned.Status == 502 && !banned.EndsSession, "a 502 whose body says 403 player_banned does not end the session");
            ApiError agrees = ApiError.FromResponse(409, "{\"status\":409,\"code\":\"insufficient_funds\"}", null);
            Check(agrees.Status == 409 && agrees.Code == "insufficient_funds", "a body that agrees is read as it is");
            Check(Json.GetLong(gateway.Problem, "status") == 400, "the body's own status stays in Problem");

            // What the kit does: a cached read answered 503 by a proxy relaying a 400 problem serves the cache.
            var server = new FakeServer();
            bool down = false;
            server.Handler = r => down ? ProblemWithStatus(503, 400, "maintenance") : FakeResponse.Ok(200, Stats);
            GamingPanelClient client = NewClient(server, NewDir());
            await client.Player.GetStatsAsync();
            down = true;
            Cached<PlayerStats> cached = await client.Player.GetStatsAsync();
            Check(cached.FromCache && cached.Value.Level == 3 && cached.Error != null && cached.Error.Status == 503,
                "a 503 whose body says 400: the cached stats, with the 503");
        }

        static async Task RefreshNotTheListServesTheCache()
        {
            var saves = new FakeSaves();
            saves.WriteElsewhere("slot1", "{\"chapter\":4}");
            var server = new FakeServer();
            server.Handler = saves.Handle;
            GamingPanelClient client = NewClient(server, NewDir());
            DateTime before = DateTime.UtcNow;
            Cached<List<SaveDocument>> fresh = await client.CloudSaves.RefreshAsync();
            DateTime after = DateTime.UtcNow;
            Check(!fresh.FromCache && fresh.Value.Count == 1, "the list from the panel");

            foreach (string notTheList in new[] { "{}", "", "<html>portal</html>", "{\"results\":[]}" })
            {
                server.Handler = r => r.Path == "player/saves" ? FakeResponse.Ok(200, notTheList) : saves.Handle(r);
                Cached<List<SaveDocument>> kept;
                try { kept = await client.CloudSaves.RefreshAsync(); }
                catch (ApiError e) { throw new Exception("expected the synced copies, not " + e + ", for a 200 of " + notTheList); }
                Check(kept.FromCache && kept.Error != null && kept.Error.Code == ErrorCodes.InvalidResponse && kept.Error.Status == 200,
                    "a 200 that is not the list: FromCache with invalid_response: " + notTheList);
                Check(kept.Value.Count == 1 && kept.Value[0].Key == "slot1" && kept.Value[0].Version == 1, "the synced copies: " + notTheList);
                Check(Within(kept.FetchedAtUtc, before, after), "the time the copies were read from the panel: " + notTheList);
            }
            string value;
            Check(client.CloudSaves.TryGet("slot1", out value) && value == "{\"chapter\":4}", "the synced copy was not replaced");
            server.Handler = r => FakeResponse.Problem(404, "not_found");
            ApiError refused = null;
            try { await client.CloudSaves.RefreshAsync(); } catch (ApiError e) { refused = e; }
            Check(refused != null && refused.Status == 404, "a refusal is still thrown");
        }

        // The same bodies as examples/unreal/Tests/CloudSaveQueueTest.cpp's NotDocuments: both kits read a list alike.
        static readonly string[] NotDocuments =
        {
            "[1]", "[null]", "[\"slot1\"]", "[[]]", "[true]",
            "[{\"version\":2,\"value\":{}}]",                                  // no key
            "[{\"key\":7,\"version\":2,\"value\":{}}]",                       // a key that is not a string
            "[{\"key\":\"\",\"version\":2,\"value\":{}}]",                     // ... nor a save key
            "[{\"key\":\"a/b\",\"version\":2,\"value\":{}}]",
            "[{\"key\":\"slot1\",\"value\":{}}]",                               // no version
            "[{\"key\":\"slot1\",\"version\":null,\"value\":{}}]",
            "[{\"key\":\"slot1\",\"version\":\"2\",\"value\":{}}]",             // a version that is not a number
            "[{\"key\":\"slot1\",\"version\":0,\"value\":{}}]",               // ... nor a whole number of at least 1
            "[{\"key\":\"slot1\",\"version\":-2,\"value\":{}}]",
            "[{\"key\":\"slot1\",\"version\":1.5,\"value\":{}}]",
            "[{\"key\":\"slot1\",\"version\":2}]",                             // no value
            "[{\"key\":\"slot1\",\"version\":2,\"value\":null}]",
            // One good document beside a bad item, or a key listed twice: nothing of it is applied.
            "[{\"key\":\"slot1\",\"version\":2,\"value\":{\"chapter\":9}},{}]",
            "[{\"key\":\"slot1\",\"version\":2,\"value\":{\"chapter\":9}},{\"key\":\"slot1\",\"version\":3,\"value\":1}]",
        };

        static async Task RefreshListWithAnItemThatIsNotADocument()
        {
            var saves = new FakeSaves();
            saves.WriteElsewhere("slot1", "{\"chapter\":4}");
            var server = new FakeServer();
            server.Handler = saves.Handle;
            GamingPanelClient client = NewClient(server, NewDir());
            DateTime before = DateTime.UtcNow;
            await client.CloudSaves.RefreshAsync();
            DateTime after = DateTime.UtcNow;

            foreach (string body in NotDocuments)
            {
                server.Handler = r => r.Path == "player/saves" ? FakeResponse.Ok(200, body) : saves.Handle(r);
                Cached<List<SaveDocument>> kept;
                try { kept = await client.CloudSaves.RefreshAsync(); }
                catch (Exception e) { throw new Exception("expected the synced copies, not " + e.GetType().Name + " " + e.Message + ", for " + body); }
                Check(kept.FromCache && kept.Error != null && kept.Error.Code == ErrorCodes.InvalidResponse && kept.Error.Status == 200,
                    "FromCache with invalid_response for " + body);
                Check(kept.Value.Count == 1 && kept.Value[0].Key == "slot1" && kept.Value[0].Version == 1 && kept.Value[0].ValueJson == "{\"chapter\":4}",
                    "the synced copy as it was, for " + body);
                Check(Within(kept.FetchedAtUtc, before, after), "the time the synced copies were read, for " + body);
            }
            string value;
            Check(client.CloudSaves.TryGet("slot1", out value) && value == "{\"chapter\":4}", "the synced copy was not replaced");

            // What the panel sends is read as before: fields it may add are ignored, updated_at is optional, 2.0 is 2.
            server.Handler = r => r.Path == "player/saves"
                ? FakeResponse.Ok(200, "[{\"key\":\"slot1\",\"version\":2.0,\"value\":{\"chapter\":5},\"extra\":[1]},{\"key\":\"b\",\"version\":1,\"value\":false}]")
                : saves.Handle(r);
            Cached<List<SaveDocument>> read = await client.CloudSaves.RefreshAsync();
            Check(!read.FromCache && read.Error == null && read.Value.Count == 2, "a list of documents is applied");
            Check(client.CloudSaves.TryGet("slot1", out value) && value == "{\"chapter\":5}", "slot1 from the list");
            Check(client.CloudSaves.TryGet("b", out value) && value == "false", "b from the list");
        }

        static async Task CachedCopiesCarryTheirFetchTime()
        {
            // Remote config: the saved copy, offline, with the time it was read.
            var server = new FakeServer();
            bool online = true;
            server.Handler = r => online ? FakeResponse.Ok(200, "{\"version\":1,\"values\":{\"daily_bonus\":150}}") : FakeResponse.Offline();
            GamingPanelClient client = NewClient(server, NewDir());
            var config = new RemoteConfigService(client, "1.0.0", "ios");
            DateTime before = DateTime.UtcNow;
            Cached<RemoteConfigValues> fresh = await config.GetAsync();
            DateTime after = DateTime.UtcNow;
            Check(!fresh.FromCache && Within(fresh.FetchedAtUtc, before, after), "the config from the panel, read now");
            online = false;
            Cached<RemoteConfigValues> offline = await config.GetAsync();
            Check(offline.FromCache && offline.Value.GetLong("daily_bonus") == 150, "offline: the saved config");
            Check(Within(offline.FetchedAtUtc, before, after), "the saved config says when it was read, not " + offline.FetchedAtUtc.ToString("o"));

            // Cloud save: the synced copies, offline, with the time the list was read; after a restart too.
            var saves = new FakeSaves();
            saves.WriteElsewhere("slot1", "{\"chapter\":2}");
            server = new FakeServer();
            server.Handler = saves.Handle;
            string dir = NewDir();
            client = NewClient(server, dir);
            before = DateTime.UtcNow;
            await client.CloudSaves.RefreshAsync();
            after = DateTime.UtcNow;
            saves.Online = false;
            Cached<List<SaveDocument>> cached = await client.CloudSaves.RefreshAsync();
            Check(cached.FromCache && cached.Value.Count == 1, "offline: the synced copies");
            Check(Within(cached.FetchedAtUtc, before, after), "the synced copies say when they were read, not " + cached.FetchedAtUtc.ToString("o"));
            GamingPanelClient restarted = NewClient(server, dir);
            Cached<List<SaveDocument>> afterRestart = await restarted.CloudSaves.RefreshAsync();
            Check(afterRestart.FromCache && afterRestart.Value.Count == 1 && Within(afterRestart.FetchedAtUtc, before, after),
                "after a restart too, not " + afterRestart.FetchedAtUtc.ToString("o"));
        }

        const string ConfigBody = "{\"version\":1,\"values\":{\"daily_bonus\":150}}";
        static readonly DateTime LongAgo = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

        /// <summary>Makes player 7's saved config say it was read LongAgo (as a copy from an earlier session would).</summary>
        static void AgeConfigCopy(string cacheDir)
        {
            string file = Path.Combine(Path.Combine(cacheDir, "7"), "remote_config.json");
            Dictionary<string, object> document = Json.ParseObject(File.ReadAllText(file));
            document["fetched_at"] = LongAgo;
            File.WriteAllText(file, Json.Serialize(document));
        }

        static FakeServer ConfigServer(Func<FakeRequest, FakeResponse> handler)
        {
            var server = new FakeServer();
            server.Handler = handler;
            return server;
        }

        static FakeResponse ConfigWithETag()
        {
            FakeResponse ok = FakeResponse.Ok(200, ConfigBody);
            ok.Headers = new Dictionary<string, string> { { "etag", "\"1-abc\"" } };
            return ok;
        }

        static async Task ConfigNotModifiedMovesTheFetchTime()
        {
            string dir = NewDir();
            bool online = true;
            FakeServer server = ConfigServer(r =>
            {
                if (!online) return FakeResponse.Offline();
                return r.Header("If-None-Match") == "\"1-abc\"" ? new FakeResponse { Status = 304 } : ConfigWithETag();
            });
            var config = new RemoteConfigService(NewClient(server, dir), "1.0.0", "ios");
            Check(config.FetchedAtUtc == DateTime.MinValue, "no copy: DateTime.MinValue");
            await config.GetAsync();
            AgeConfigCopy(dir); // the copy was read in an earlier session
            Check(config.FetchedAtUtc == LongAgo, "the saved copy's time, without the network: " + config.FetchedAtUtc.ToString("o"));

            DateTime before = DateTime.UtcNow;
            Cached<RemoteConfigValues> confirmed = await config.GetAsync();
            DateTime after = DateTime.UtcNow;
            Check(server.To("config")[1].Header("If-None-Match") == "\"1-abc\"", "the ETag is sent back");
            Check(!confirmed.FromCache && confirmed.Error == null && confirmed.Value.GetLong("daily_bonus") == 150
                && Within(confirmed.FetchedAtUtc, before, after), "a 304: the copy, current, read now");
            Check(Within(config.FetchedAtUtc, before, after), "the 304's time is kept with the copy, not " + config.FetchedAtUtc.ToString("o"));

            online = false;
            var restarted = new RemoteConfigService(NewClient(server, dir), "1.0.0", "ios");
            Cached<RemoteConfigValues> offline = await restarted.GetAsync();
            Check(offline.FromCache && offline.Value.GetLong("daily_bonus") == 150 && offline.Value.ETag == "\"1-abc\"", "after a restart, offline: the copy");
            Check(Within(offline.FetchedAtUtc, before, after), "after a restart, the time the 304 confirmed it, not " + offline.FetchedAtUtc.ToString("o"));
            Check(Within(restarted.FetchedAtUtc, before, after), "FetchedAtUtc after a restart, not " + restarted.FetchedAtUtc.ToString("o"));
        }

        static async Task ConfigNotTheConfigKeepsTheCopy()
        {
            string[] notConfig =
            {
                "", "<html>portal</html>", "[]", "\"config\"", "null", "{}",
                "{\"values\":{\"daily_bonus\":1}}", // no version
                "{\"version\":\"2\",\"values\":{\"daily_bonus\":1}}",
                "{\"version\":null,\"values\":{\"daily_bonus\":1}}",
                "{\"version\":true,\"values\":{\"daily_bonus\":1}}",
                "{\"version\":1.5,\"values\":{\"daily_bonus\":1}}",
                "{\"version\":-1,\"values\":{\"daily_bonus\":1}}",
                "{\"version\":2}", // no values
                "{\"version\":2,\"values\":[1]}",
                "{\"version\":2,\"values\":null}",
                "{\"version\":2,\"values\":\"daily_bonus\"}",
            };
            string dir = NewDir();
            string body = ConfigBody;
            FakeServer server = ConfigServer(r => FakeResponse.Ok(200, body));
            var config = new RemoteConfigService(NewClient(server, dir), "1.0.0", "ios");
            await config.GetAsync();
            AgeConfigCopy(dir);
            foreach (string answer in notConfig)
            {
                body = answer;
                Cached<RemoteConfigValues> kept;
                try { kept = await config.GetAsync(); }
                catch (Exception e) { throw new Exception("expected the saved copy, not " + e.GetType().Name + " " + e.Message + ", for " + answer); }
                Check(kept.FromCache && kept.Error != null && kept.Error.Code == ErrorCodes.InvalidResponse && kept.Error.Status == 200,
                    "FromCache with invalid_response for " + answer);
                Check(kept.Value.GetLong("daily_bonus") == 150 && kept.Value.Version == 1 && kept.FetchedAtUtc == LongAgo,
                    "the saved copy and its time, unchanged, for " + answer);
                Check(config.LoadCached().GetLong("daily_bonus") == 150 && config.FetchedAtUtc == LongAgo, "nothing written for " + answer);
            }

            // Without a saved copy there is nothing to serve: the error.
            body = "{\"values\":{\"daily_bonus\":1}}";
            ApiError refused = null;
            try { await new RemoteConfigService(NewClient(server, NewDir()), "1.0.0", "ios").GetAsync(); }
            catch (ApiError e) { refused = e; }
            Check(refused != null && refused.Code == ErrorCodes.InvalidResponse, "no copy: invalid_response");

            // What the panel sends is read as before: 2.0 is 2, fields it may add are ignored.
            body = "{\"version\":2.0,\"values\":{\"daily_bonus\":200},\"extra\":[1]}";
            Cached<RemoteConfigValues> read = await config.GetAsync();
            Check(!read.FromCache && read.Error == null && read.Value.Version == 2 && read.Value.GetLong("daily_bonus") == 200, "the config is applied");
        }

        static async Task ConfigRetryAfterServesTheCopy()
        {
            string dir = NewDir();
            FakeResponse answer = ConfigWithETag();
            FakeServer server = ConfigServer(r => answer);
            var config = new RemoteConfigService(NewClient(server, dir), "1.0.0", "ios");
            await config.GetAsync();
            AgeConfigCopy(dir);
            foreach (int status in new[] { 429, 503 })
            {
                answer = FakeResponse.Problem(status, status == 429 ? "rate_limited" : "service_unavailable", "120");
                int sent = server.To("config").Count;
                Cached<RemoteConfigValues> kept = await config.GetAsync();
                Check(server.To("config").Count == sent + 1, status + ": a Retry-After over 30 s is not waited (sent once)");
                Check(kept.FromCache && kept.Error != null && kept.Error.Status == status && kept.Error.RetryAfterSeconds == 120f,
                    status + ": the copy, with the error and its RetryAfterSeconds");
                Check(kept.Value.GetLong("daily_bonus") == 150 && kept.FetchedAtUtc == LongAgo && config.FetchedAtUtc == LongAgo,
                    status + ": the copy and its time unchanged");
            }
        }
    }
}
#endif
