// Behaviour tests of the offline-first cloud save and remote config clients, run with the SDK tests
// (scripts/check_examples.sh). The fake server below keeps documents with versions as the panel does.
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace GamingPanel.Tests
{
    /// <summary>
    /// The panel's cloud-save rules, in memory: versions, If-Match, If-None-Match: *, 412 with current, and a write's
    /// first successful answer stored with its Idempotency-Key and answered again to the same request (a refusal
    /// stores nothing).
    /// </summary>
    sealed class FakeSaves
    {
        public readonly Dictionary<string, KeyValuePair<long, string>> Documents = new Dictionary<string, KeyValuePair<long, string>>();
        public readonly HashSet<string> SeenKeys = new HashSet<string>();
        readonly Dictionary<string, KeyValuePair<string, FakeResponse>> _answers = new Dictionary<string, KeyValuePair<string, FakeResponse>>();
        public bool Online = true;
        public int Writes;

        public FakeResponse Handle(FakeRequest r)
        {
            if (!Online) return FakeResponse.Offline();
            if (r.Path == "player/saves" && r.Method == "GET")
            {
                var items = new List<string>();
                foreach (KeyValuePair<string, KeyValuePair<long, string>> d in Documents) items.Add(Body(d.Key));
                return FakeResponse.Ok(200, "[" + string.Join(",", items.ToArray()) + "]");
            }
            string idempotency = r.Header("Idempotency-Key");
            string request = r.Method + " " + r.Path + " " + r.Header("If-Match") + " " + r.Header("If-None-Match") + " " +
                (r.Body == null ? "" : Json.Serialize(r.Body["value"]));
            KeyValuePair<string, FakeResponse> first;
            if (idempotency != null && _answers.TryGetValue(idempotency, out first))
                return first.Key == request ? FakeResponse.Ok(first.Value.Status, first.Value.Body) : FakeResponse.Problem(422, "idempotency_key_reused");
            FakeResponse answer = Apply(r);
            if (idempotency != null && answer.Status >= 200 && answer.Status < 300)
                _answers[idempotency] = new KeyValuePair<string, FakeResponse>(request, answer);
            return answer;
        }

        FakeResponse Apply(FakeRequest r)
        {
            string key = r.Path.Substring("player/saves/".Length);
            string idempotency = r.Header("Idempotency-Key");
            KeyValuePair<long, string> current;
            bool exists = Documents.TryGetValue(key, out current);
            string ifMatch = r.Header("If-Match");
            bool holds = r.Header("If-None-Match") == "*" ? !exists : exists && ifMatch == "\"" + current.Key + "\"";
            if (!holds)
            {
                return new FakeResponse
                {
                    Status = 412,
                    Body = "{\"type\":\"/docs/errors#precondition_failed\",\"title\":\"t\",\"status\":412,\"detail\":\"d\"," +
                        "\"code\":\"precondition_failed\",\"current\":" + (exists ? Body(key) : "null") + "}",
                };
            }
            Writes++;
            if (idempotency != null) SeenKeys.Add(idempotency);
            if (r.Method == "DELETE")
            {
                Documents.Remove(key);
                return FakeResponse.Ok(204, "");
            }
            string value = Json.Serialize(r.Body["value"]);
            Documents[key] = new KeyValuePair<long, string>(exists ? current.Key + 1 : 1, value);
            return FakeResponse.Ok(exists ? 200 : 201, Body(key));
        }

        /// <summary>Another device writes the key.</summary>
        public void WriteElsewhere(string key, string valueJson)
        {
            KeyValuePair<long, string> current;
            long version = Documents.TryGetValue(key, out current) ? current.Key + 1 : 1;
            Documents[key] = new KeyValuePair<long, string>(version, valueJson);
        }

        string Body(string key)
        {
            KeyValuePair<long, string> d = Documents[key];
            return "{\"key\":\"" + key + "\",\"version\":" + d.Key + ",\"value\":" + d.Value + ",\"updated_at\":\"2026-01-01T00:00:00Z\"}";
        }
    }

    /// <summary>A FakeServer whose next PUT reaches the panel but whose answer waits for HoldNextPut (a slow network).</summary>
    sealed class HoldingTransport : IGamingPanelTransport
    {
        public readonly FakeServer Server;
        public TaskCompletionSource<bool> HoldNextPut;

        public HoldingTransport(FakeServer server) { Server = server; }

        public async Task<HttpResult> SendAsync(string method, string path, object body, IDictionary<string, string> headers, CancellationToken ct)
        {
            TaskCompletionSource<bool> hold = method == "PUT" ? Interlocked.Exchange(ref HoldNextPut, null) : null;
            HttpResult result = null;
            ApiError error = null;
            try { result = await Server.SendAsync(method, path, body, headers, ct); }
            catch (ApiError e) { error = e; }
            if (hold != null) await hold.Task;
            if (error != null) throw error;
            return result;
        }
    }

    static class OfflineSaveTests
    {
        static readonly string TempRoot = Path.Combine(Path.GetTempPath(), "gp-unity-saves-" + Guid.NewGuid().ToString("N"));

        public static IEnumerable<KeyValuePair<string, Func<Task>>> Cases()
        {
            yield return Case("cloud save: offline saves are queued, read locally and synced with If-Match", QueuedWhileOffline);
            yield return Case("cloud save: a write from another device is a conflict with both copies, never overwritten", ConflictKeepsBoth);
            yield return Case("cloud save: conflict resolved as merged writes over the server's version", ConflictMerged);
            yield return Case("cloud save: keep the server's copy drops the local write", ConflictKeepServer);
            yield return Case("cloud save: keep the local copy writes it over the server's version, under a new key", ConflictKeepLocal);
            yield return Case("cloud save: an offline delete is read locally and synced with If-Match", DeleteQueuedWhileOffline);
            yield return Case("cloud save: a delete that meets another device's write is a conflict, never applied", DeleteMeetsAWrite);
            yield return Case("cloud save: a key deleted on both devices is agreed, nothing to decide", DeletedOnBothSides);
            yield return Case("cloud save: a retried write keeps its Idempotency-Key", RetryKeepsIdempotencyKey);
            yield return Case("cloud save: a refused write (413) is dropped and reported with its value", RejectedIsDropped);
            yield return Case("cloud save: a 401 keeps every queued write for the next session", SessionOverKeepsTheQueue);
            yield return Case("cloud save: the queue survives a restart", QueueSurvivesRestart);
            yield return Case("cloud save: a save built on what the game read is a conflict when a refresh brought another device's write", RefreshThenSaveIsAConflict);
            yield return Case("cloud save: a save or delete built on no document (read as none, or deleted here) is a conflict when a refresh brought another device's copy", NoDocumentThenRefreshIsAConflict);
            yield return Case("cloud save: another player logging in mid-sync stops it; nothing of one player reaches the other", PlayerSwitchStopsTheSync);
            yield return Case("remote config: ETag 304 keeps the copy, offline or refused serves it", ConfigCachedWithETag);
            yield return Case("remote config: the build's numeric version is sent", ConfigSendsTheBuildsNumericVersion);
            yield return Case("cloud save: a save with nobody logged in is refused", SaveWithoutPlayerIsRefused);
            yield return Case("cloud save: a local copy that cannot be read is moved aside, never written over", UnreadableStateIsSetAside);
            yield return Case("cloud save: a refresh answered after the device's own write settled does not put the older version back", LateRefreshKeepsTheNewerWrite);
            yield return Case("cloud save: a key the panel cannot take is refused when saved, never queued", InvalidKeyIsRefusedWhenSaved);
            yield return Case("cloud save: a write retried (503, 401) after another player logged in is not sent with their session; it stays queued for its player", RetryAfterPlayerSwitchStaysWithItsPlayer);
            yield return Case("shop: a purchase retried after another player logged in is not sent with their session", PurchaseRetryStaysWithItsPlayer);
            yield return Case("cloud save: a 403 player_banned stops the sync and keeps every queued write", BanKeepsTheQueue);
            yield return Case("cloud save: a 403 about the session or credential (permission_missing, wrong_credential_kind...) keeps every queued write; only save_key_not_writable drops one", SessionRefusalKeepsTheQueue);
            yield return Case("cloud save: a delete's 404 is \"gone\" only as save_not_found; not_found (a wrong base URL) keeps the delete queued", DeleteGoneOnlyOnSaveNotFound);
            yield return Case("cloud save: answers that are not the panel's (HTML 200, 408, a proxy's 404) keep the write and its key", NotThePanelsAnswerKeepsTheWrite);
            yield return Case("cloud save: when the local copy cannot be written to disk, saves are kept in memory, read back and synced", DiskFailureKeepsSavesInMemory);
            yield return Case("cloud save, remote config and cached reads: an answer that arrives after another player logged in is not kept for them", AnswerAfterPlayerSwitchIsDiscarded);
            yield return Case("cloud save: a write whose answer was lost goes again first, so the next save is no conflict with it", LostAnswerIsResentFirst);
            yield return Case("leaderboards: closed periods are read a page at a time", PeriodsPageBack);
            yield return Case("cloud save: a sync called while another runs waits for it; a late answer never puts an older version back", OverlappingSyncsKeepTheNewestCopy);
            yield return Case("cloud save: the error that stopped a sync reaches the game on the report, a 429's Retry-After with it", SyncReportCarriesTheError);
        }

        static KeyValuePair<string, Func<Task>> Case(string name, Func<Task> test)
        {
            return new KeyValuePair<string, Func<Task>>(name, test);
        }

        static void Check(bool condition, string what)
        {
            if (!condition) throw new Exception("expected " + what);
        }

        static GamingPanelClient NewClient(IGamingPanelTransport server, string cacheDir = null)
        {
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            var storage = new MemoryTokenStorage();
            storage.Save(new TokenSet
            {
                AccessToken = "access", RefreshToken = "refresh", PlayerId = "7", DisplayName = "Tess",
                AccessExpiresAtUtc = DateTime.UtcNow.AddHours(1), RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(20),
            });
            var cache = new LocalCache(cacheDir ?? Path.Combine(TempRoot, Guid.NewGuid().ToString("N")));
            return new GamingPanelClient(config, storage, server, cache);
        }

        static FakeServer Serving(FakeSaves saves)
        {
            var server = new FakeServer();
            server.Handler = saves.Handle;
            return server;
        }

        static async Task QueuedWhileOffline()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } });
            await client.CloudSaves.SyncAsync();
            Check(saves.Documents["slot1"].Key == 1, "created at version 1");
            Check(server.To("player/saves/slot1")[0].Header("If-None-Match") == "*", "a new key is created with If-None-Match: *");

            saves.Online = false;
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 2 } });
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 3 } });
            SyncReport offline = await client.CloudSaves.SyncAsync();
            Check(offline.Offline && offline.StillQueued == 1, "offline: one write (the newest) stays queued");
            string local;
            Check(client.CloudSaves.TryGet("slot1", out local) && local == "{\"chapter\":3}", "the local read is the queued value");

            saves.Online = true;
            SyncReport back = await client.CloudSaves.SyncAsync();
            Check(back.Written.Count == 1 && back.StillQueued == 0, "synced once back online");
            Check(saves.Documents["slot1"].Key == 2 && saves.Documents["slot1"].Value == "{\"chapter\":3}", "the newest value at version 2");
            List<FakeRequest> puts = server.To("player/saves/slot1");
            Check(puts[puts.Count - 1].Header("If-Match") == "\"1\"", "written against version 1");
        }

        static async Task OverlappingSyncsKeepTheNewestCopy()
        {
            var saves = new FakeSaves();
            var transport = new HoldingTransport(Serving(saves));
            GamingPanelClient client = NewClient(transport);
            client.CloudSaves.Save("slot1", "one");
            await client.CloudSaves.SyncAsync(); // version 1
            string local;
            Check(client.CloudSaves.TryGet("slot1", out local) && local == "\"one\"", "version 1 is read");

            client.CloudSaves.Save("slot1", "A");
            var held = new TaskCompletionSource<bool>();
            transport.HoldNextPut = held;
            Task<SyncReport> first = client.CloudSaves.SyncAsync(); // A is written (version 2); its answer is slow
            for (int wait = 0; wait < 200 && saves.Writes < 2; wait++) await Task.Delay(10);
            Check(saves.Writes == 2, "A reached the panel");

            client.CloudSaves.Save("slot1", "B");
            Task<SyncReport> second = client.CloudSaves.SyncAsync(); // the game syncs again while A's answer is out
            await Task.WhenAny(second, Task.Delay(500)); // two syncs at once: this one writes B (version 3) meanwhile
            held.SetResult(true); // A's answer (version 2) arrives
            await first;
            await second;

            Check(client.CloudSaves.TryGet("slot1", out local) && local == "\"B\"", "the device reads B");
            Check(saves.Documents["slot1"].Key == 3 && saves.Documents["slot1"].Value == "\"B\"", "the panel holds B at version 3");
            client.CloudSaves.Save("slot1", "C");
            SyncReport next = await client.CloudSaves.SyncAsync();
            List<FakeRequest> puts = transport.Server.To("player/saves/slot1");
            Check(next.Conflicts.Count == 0 && next.Written.Count == 1, "the next save is no conflict with the device's own write");
            Check(puts[puts.Count - 1].Header("If-Match") == "\"3\"" && saves.Documents["slot1"].Key == 4, "it builds on version 3, not A's late version 2");
        }

        static async Task RefreshThenSaveIsAConflict()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } });
            await client.CloudSaves.SyncAsync();
            string loaded;
            Check(client.CloudSaves.TryGet("slot1", out loaded) && loaded == "{\"chapter\":1}", "the game loads version 1");
            saves.WriteElsewhere("slot1", "{\"chapter\":9}"); // the player's other device: version 2
            await client.CloudSaves.RefreshAsync(); // brings version 2 in, the game does not look

            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 2 } }); // built on version 1
            SyncReport report = await client.CloudSaves.SyncAsync();

            Check(report.Conflicts.Count == 1 && report.Written.Count == 0, "a conflict, not a silent overwrite");
            Check(saves.Documents["slot1"].Value == "{\"chapter\":9}", "the other device's progress is kept");
            List<FakeRequest> puts = server.To("player/saves/slot1");
            Check(puts[puts.Count - 1].Header("If-Match") == "\"1\"", "sent against the version the game read");

            // Read again, then saved: built on what the game now saw, it goes through.
            client.CloudSaves.Resolve("slot1", ConflictResolution.KeepServer);
            Check(client.CloudSaves.TryGet("slot1", out loaded) && loaded == "{\"chapter\":9}", "the server's copy is read");
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 10 } });
            SyncReport after = await client.CloudSaves.SyncAsync();
            Check(after.Written.Count == 1 && saves.Documents["slot1"].Value == "{\"chapter\":10}", "written over version 2");
        }

        static async Task NoDocumentThenRefreshIsAConflict()
        {
            // A first start on this device: the game finds no save and starts a new game, while a refresh in the
            // background brings the progress the player made on another device.
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            string loaded;
            Check(!client.CloudSaves.TryGet("slot1", out loaded), "the game finds no slot1 on this device");
            saves.WriteElsewhere("slot1", "{\"chapter\":9}"); // the player's other device: version 1
            await client.CloudSaves.RefreshAsync(); // brings it in, the game does not look
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } }); // built on no document
            SyncReport report = await client.CloudSaves.SyncAsync();
            List<FakeRequest> puts = server.To("player/saves/slot1");
            Check(puts.Count == 1 && puts[0].Header("If-None-Match") == "*" && puts[0].Header("If-Match") == null,
                "the save goes as a create (If-None-Match: *), not against the version the refresh brought");
            Check(report.Conflicts.Count == 1 && report.Written.Count == 0 && report.Conflicts[0].Server != null &&
                report.Conflicts[0].Server.ValueJson == "{\"chapter\":9}" && report.Conflicts[0].LocalValueJson == "{\"chapter\":1}",
                "a conflict with both copies, not a silent overwrite");
            Check(saves.Documents["slot1"].Key == 1 && saves.Documents["slot1"].Value == "{\"chapter\":9}", "the other device's progress is kept");

            // The same for a delete of a key the game saw no document of.
            Check(!client.CloudSaves.TryGet("slot2", out loaded), "the game finds no slot2 on this device");
            saves.WriteElsewhere("slot2", "{\"gold\":5}");
            await client.CloudSaves.RefreshAsync();
            client.CloudSaves.Delete("slot2");
            SyncReport deleted = await client.CloudSaves.SyncAsync();
            Check(deleted.Conflicts.Exists(c => c.Key == "slot2") && saves.Documents.ContainsKey("slot2"),
                "a delete built on no document is a conflict, the other device's slot2 is kept");

            // And after the device's own delete: another device writes the key again, a refresh brings it in.
            client.CloudSaves.Resolve("slot1", ConflictResolution.KeepServer);
            Check(client.CloudSaves.TryGet("slot3", out loaded) == false, "no slot3 yet");
            client.CloudSaves.Save("slot3", "mine");
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Delete("slot3");
            await client.CloudSaves.SyncAsync();
            Check(!saves.Documents.ContainsKey("slot3"), "slot3 deleted by this device");
            saves.WriteElsewhere("slot3", "\"theirs\"");
            await client.CloudSaves.RefreshAsync();
            client.CloudSaves.Save("slot3", "mine again"); // built on the device's own delete
            SyncReport again = await client.CloudSaves.SyncAsync();
            Check(again.Conflicts.Exists(c => c.Key == "slot3") && saves.Documents["slot3"].Value == "\"theirs\"",
                "a save after the device's own delete is a conflict with the copy written since, not an overwrite");
        }

        static async Task PlayerSwitchStopsTheSync()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            bool switched = false;
            Func<FakeRequest, FakeResponse> panel = server.Handler;
            server.Handler = r =>
            {
                if (r.Path == "auth/third-party/login")
                    return FakeResponse.Ok(200, "{\"access_token\":\"access-B\",\"refresh_token\":\"refresh-B\",\"token_type\":\"Bearer\",\"expires_in\":7200,\"refresh_expires_in\":2592000,\"player\":{\"id\":8,\"display_name\":\"Bo\",\"created\":false}}");
                FakeResponse answer = panel(r);
                if (!switched && r.Path == "player/saves/a1")
                {
                    switched = true; // the first write's answer is on its way: player 8 logs in meanwhile
                    client.LoginAsync(new DevCredentialProvider("bo", "Bo")).GetAwaiter().GetResult();
                }
                return answer;
            };
            client.CloudSaves.Save("a1", new Dictionary<string, object> { { "mine", "A" } });
            client.CloudSaves.Save("a2", new Dictionary<string, object> { { "mine", "A" } });

            SyncReport report = await client.CloudSaves.SyncAsync();

            Check(client.Auth.PlayerId == "8", "player 8 is logged in");
            Check(server.To("player/saves/a2").Count == 0, "player 7's next write is not sent with player 8's session");
            string value;
            Check(!client.CloudSaves.TryGet("a1", out value), "player 8 sees none of player 7's saves");
            Check(report.StillQueued == 1, "player 7's second write waits for player 7's next session");
        }

        static async Task ConflictKeepsBoth()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } });
            await client.CloudSaves.SyncAsync();
            saves.Online = false;
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 5 } });
            saves.WriteElsewhere("slot1", "{\"chapter\":4}"); // the player's other device, meanwhile
            saves.Online = true;

            SaveConflict raised = null;
            client.CloudSaves.ConflictDetected += c => raised = c;
            SyncReport report = await client.CloudSaves.SyncAsync();

            Check(report.Conflicts.Count == 1 && raised != null, "the conflict is reported and raised");
            Check(raised.LocalValueJson == "{\"chapter\":5}", "with the local copy");
            Check(raised.Server.Version == 2 && raised.Server.ValueJson == "{\"chapter\":4}", "and the server's copy");
            Check(saves.Documents["slot1"].Value == "{\"chapter\":4}", "the other device's write is not overwritten");
            Check(client.CloudSaves.Conflicts.Count == 1, "the conflict waits for the game");
            int sent = server.To("player/saves/slot1").Count;
            SyncReport again = await client.CloudSaves.SyncAsync();
            Check(again.Conflicts.Count == 1 && server.To("player/saves/slot1").Count == sent, "an unresolved conflict is not sent again");
            Check(saves.Writes == 1, "the server took only the first create");
        }

        static async Task ConflictMerged()
        {
            var saves = new FakeSaves();
            GamingPanelClient client = NewClient(Serving(saves));
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } });
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 5 } });
            saves.WriteElsewhere("slot1", "{\"chapter\":4}");
            await client.CloudSaves.SyncAsync();

            client.CloudSaves.Resolve("slot1", ConflictResolution.UseMerged, new Dictionary<string, object> { { "chapter", 5 }, { "merged", true } });
            SyncReport report = await client.CloudSaves.SyncAsync();

            Check(report.Written.Count == 1 && report.Conflicts.Count == 0, "the merged value is written");
            Check(saves.Documents["slot1"].Key == 3 && saves.Documents["slot1"].Value == "{\"chapter\":5,\"merged\":true}", "over version 2");
        }

        static async Task ConflictKeepServer()
        {
            var saves = new FakeSaves();
            GamingPanelClient client = NewClient(Serving(saves));
            client.CloudSaves.Save("slot1", "mine");
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Save("slot1", "mine again");
            saves.WriteElsewhere("slot1", "\"theirs\"");
            await client.CloudSaves.SyncAsync();

            client.CloudSaves.Resolve("slot1", ConflictResolution.KeepServer);
            SyncReport report = await client.CloudSaves.SyncAsync();
            string local;
            Check(report.StillQueued == 0 && report.Written.Count == 0, "nothing left to send");
            Check(client.CloudSaves.TryGet("slot1", out local) && local == "\"theirs\"", "the server's copy is the local one");
            Check(saves.Documents["slot1"].Value == "\"theirs\"", "the server is unchanged");
        }

        static async Task ConflictKeepLocal()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", "mine");
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Save("slot1", "mine again");
            saves.WriteElsewhere("slot1", "\"theirs\"");
            await client.CloudSaves.SyncAsync();
            string refusedKey = server.To("player/saves/slot1")[1].Header("Idempotency-Key");

            client.CloudSaves.Resolve("slot1", ConflictResolution.KeepLocal);
            SyncReport report = await client.CloudSaves.SyncAsync();
            FakeRequest last = server.To("player/saves/slot1")[2];
            Check(report.Written.Count == 1 && report.StillQueued == 0, "the local copy is written");
            Check(last.Header("If-Match") == "\"2\"", "over the server's version, not the one it started from");
            Check(last.Header("Idempotency-Key") != refusedKey, "as a new write: the refused one's key is not reused");
            Check(saves.Documents["slot1"].Key == 3 && saves.Documents["slot1"].Value == "\"mine again\"", "the server holds it");
            string local;
            Check(client.CloudSaves.TryGet("slot1", out local) && local == "\"mine again\"", "and so does the device");
        }

        static async Task DeleteQueuedWhileOffline()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", 1);
            await client.CloudSaves.SyncAsync();
            saves.Online = false;
            client.CloudSaves.Delete("slot1");
            client.CloudSaves.Delete("never-synced"); // nothing the server has: nothing to send
            string local;
            Check(!client.CloudSaves.TryGet("slot1", out local), "deleted locally at once");
            SyncReport offline = await client.CloudSaves.SyncAsync();
            Check(offline.Offline && offline.StillQueued == 1, "the delete waits for the network");
            saves.Online = true;

            SyncReport report = await client.CloudSaves.SyncAsync();
            List<FakeRequest> sent = server.To("player/saves/slot1");
            FakeRequest delete = sent[sent.Count - 1];
            Check(delete.Method == "DELETE" && delete.Header("If-Match") == "\"1\"", "a DELETE against the synced version");
            Check(report.StillQueued == 0 && !saves.Documents.ContainsKey("slot1"), "gone on the server");
            Check(!client.CloudSaves.TryGet("slot1", out local), "and on the device");
            Check(server.To("player/saves/never-synced").Count == 0, "a key never synced sends nothing");
        }

        static async Task DeleteMeetsAWrite()
        {
            var saves = new FakeSaves();
            GamingPanelClient client = NewClient(Serving(saves));
            client.CloudSaves.Save("slot1", "mine");
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Delete("slot1");
            saves.WriteElsewhere("slot1", "\"theirs\"");

            SyncReport report = await client.CloudSaves.SyncAsync();
            Check(report.Conflicts.Count == 1 && report.Conflicts[0].LocalValueJson == null, "a conflict: deleted here");
            Check(report.Conflicts[0].Server.ValueJson == "\"theirs\"", "with the server's copy");
            Check(saves.Documents["slot1"].Value == "\"theirs\"", "the other device's write is not deleted");

            client.CloudSaves.Resolve("slot1", ConflictResolution.KeepLocal); // the game decides: delete it
            SyncReport resolved = await client.CloudSaves.SyncAsync();
            Check(resolved.StillQueued == 0 && !saves.Documents.ContainsKey("slot1"), "deleted over the server's version");
        }

        static async Task DeletedOnBothSides()
        {
            var saves = new FakeSaves();
            GamingPanelClient client = NewClient(Serving(saves));
            client.CloudSaves.Save("slot1", "mine");
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Delete("slot1");
            saves.Documents.Remove("slot1"); // the other device deleted it too

            SyncReport report = await client.CloudSaves.SyncAsync();
            string local;
            Check(report.Conflicts.Count == 0 && report.StillQueued == 0, "agreed: no conflict, nothing queued");
            Check(!client.CloudSaves.TryGet("slot1", out local) && client.CloudSaves.Conflicts.Count == 0, "gone everywhere");
        }

        static async Task RetryKeepsIdempotencyKey()
        {
            var saves = new FakeSaves();
            var server = new FakeServer();
            int failures = 1;
            server.Handler = r => failures-- > 0 ? FakeResponse.Problem(503, "service_unavailable") : saves.Handle(r);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", 1);
            SyncReport first = await client.CloudSaves.SyncAsync();
            if (first.StillQueued > 0) await client.CloudSaves.SyncAsync();
            List<FakeRequest> puts = server.To("player/saves/slot1");
            Check(puts.Count == 2 && puts[0].Header("Idempotency-Key") == puts[1].Header("Idempotency-Key"), "one key for both attempts");
            Check(saves.Documents["slot1"].Key == 1, "written once");
        }

        static async Task RejectedIsDropped()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(413, "document_too_large");
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", "huge");
            SyncReport report = await client.CloudSaves.SyncAsync();
            Check(report.Rejected.Count == 1 && report.Rejected[0].Error.Code == "document_too_large", "reported with its code");
            Check(report.Rejected[0].Key == "slot1" && report.Rejected[0].ValueJson == "\"huge\"", "reported with the value it carried");
            Check(report.StillQueued == 0, "dropped from the queue");
        }

        static async Task SessionOverKeepsTheQueue()
        {
            var saves = new FakeSaves();
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(401, "token_revoked"); // refresh refused too: the session is over
            string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            GamingPanelClient client = NewClient(server, dir);
            client.CloudSaves.Save("slot1", 5);
            client.CloudSaves.Save("slot2", 6);
            SyncReport report = await client.CloudSaves.SyncAsync();
            Check(report.NeedsLogin && report.Rejected.Count == 0 && report.Written.Count == 0, "a 401 asks for a login, drops nothing");

            // The same player logs in again (here: a new session on the same device).
            GamingPanelClient again = NewClient(Serving(saves), dir);
            Check(again.CloudSaves.QueuedCount == 2, "both writes still queued for the player");
            SyncReport after = await again.CloudSaves.SyncAsync();
            Check(after.Written.Count == 2 && after.StillQueued == 0, "sent in the next session");
            Check(saves.Documents["slot1"].Value == "5" && saves.Documents["slot2"].Value == "6", "the server has both");
        }

        static async Task QueueSurvivesRestart()
        {
            var saves = new FakeSaves { Online = false };
            string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            GamingPanelClient before = NewClient(Serving(saves), dir);
            before.CloudSaves.Save("slot1", 42);
            await before.CloudSaves.SyncAsync();

            saves.Online = true;
            GamingPanelClient after = NewClient(Serving(saves), dir); // the game started again
            SyncReport report = await after.CloudSaves.SyncAsync();
            Check(report.Written.Count == 1 && saves.Documents["slot1"].Value == "42", "the queued write is sent after the restart");

            // A write an older kit queued under a key the panel does not take could never be sent: dropped on load.
            saves.Online = false;
            string older = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            NewClient(Serving(saves), older).CloudSaves.Save("slot2", 1);
            string file = Directory.GetFiles(older, "cloud_saves.json", SearchOption.AllDirectories)[0];
            File.WriteAllText(file, File.ReadAllText(file).Replace("\\\"slot2\\\"", "\\\"a/b\\\""));
            saves.Online = true;
            SyncReport afterUpgrade = await NewClient(Serving(saves), older).CloudSaves.SyncAsync();
            Check(afterUpgrade.Written.Count == 0 && !saves.Documents.ContainsKey("a/b") && saves.Writes == 1,
                "a queued write under a key the panel does not take is dropped when the queue loads, not sent");
        }

        static async Task ConfigCachedWithETag()
        {
            var server = new FakeServer();
            bool online = true;
            server.Handler = r =>
            {
                if (!online) return FakeResponse.Offline();
                if (r.Header("If-None-Match") == "\"1-abc\"") return new FakeResponse { Status = 304 };
                var ok = FakeResponse.Ok(200, "{\"version\":1,\"values\":{\"daily_bonus\":150,\"motd\":{\"text\":\"hi\"}}}");
                ok.Headers = new Dictionary<string, string> { { "etag", "\"1-abc\"" } };
                return ok;
            };
            GamingPanelClient client = NewClient(server);
            var config = new RemoteConfigService(client, "1.4.2", "ios");

            Cached<RemoteConfigValues> first = await config.GetAsync();
            Check(first.Value.GetLong("daily_bonus") == 150 && !first.FromCache, "values from the server");
            Check(server.To("config")[0].Header("X-Client-Version") == "1.4.2" && server.To("config")[0].Header("X-Client-Platform") == "ios", "client version and platform sent");

            Cached<RemoteConfigValues> second = await config.GetAsync();
            Check(server.To("config")[1].Header("If-None-Match") == "\"1-abc\"", "the ETag is sent back");
            Check(second.Value.GetLong("daily_bonus") == 150 && !second.FromCache, "a 304 keeps the copy");

            online = false;
            Cached<RemoteConfigValues> offline = await config.GetAsync();
            Check(offline.FromCache && offline.Value.GetObject("motd") != null, "offline: the saved copy");

            server.Handler = r => FakeResponse.Problem(400, "invalid_client_version");
            Cached<RemoteConfigValues> refused = await config.GetAsync();
            Check(refused.FromCache && refused.Error != null && refused.Error.Code == "invalid_client_version"
                && refused.Value.GetLong("daily_bonus") == 150, "a refusal: the saved copy, with the error");

            foreach (string notConfig in new[] { "{}", "", "<html>portal</html>", "[1]" })
            {
                server.Handler = r => FakeResponse.Ok(200, notConfig);
                Cached<RemoteConfigValues> kept = await config.GetAsync();
                Check(kept.FromCache && kept.Error != null && kept.Error.Code == "invalid_response"
                    && kept.Value.GetLong("daily_bonus") == 150, "a 200 that is not the config keeps the saved copy: " + notConfig);
            }
            server.Handler = r => FakeResponse.Offline();
            Cached<RemoteConfigValues> after = await config.GetAsync();
            Check(after.FromCache && after.Value.GetLong("daily_bonus") == 150, "the saved copy was not replaced by them");
        }

        static Task ConfigSendsTheBuildsNumericVersion()
        {
            Check(RemoteConfigService.NumericVersion("1.4.2") == "1.4.2", "1.4.2 as it is");
            Check(RemoteConfigService.NumericVersion("1.0.0-beta") == "1.0.0", "a pre-release suffix dropped");
            Check(RemoteConfigService.NumericVersion("2024.1f1") == "2024.1", "a Unity-style suffix dropped");
            Check(RemoteConfigService.NumericVersion("v1.4") == "1.4", "a leading v dropped");
            Check(RemoteConfigService.NumericVersion("1.") == "1", "a trailing dot dropped");
            Check(RemoteConfigService.NumericVersion("beta") == null && RemoteConfigService.NumericVersion("") == null, "none: no header");
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Ok(200, "{\"version\":0,\"values\":{}}");
            var config = new RemoteConfigService(NewClient(server), "1.0.0-beta", "ios");
            Check(config.ClientVersion == "1.0.0", "the constructor sends the numeric part");
            return Task.FromResult(0);
        }

        static async Task PeriodsPageBack()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Ok(200, r.Path.EndsWith("before=4")
                ? "[{\"number\":3,\"state\":\"closed\"},{\"number\":2,\"state\":\"closed\"}]"
                : "[{\"number\":5,\"state\":\"closed\"},{\"number\":4,\"state\":\"closed\"}]");
            var boards = new LeaderboardsService(NewClient(server));
            List<LeaderboardPeriod> first = await boards.GetPeriodsAsync("weekly", 2);
            List<LeaderboardPeriod> next = await boards.GetPeriodsAsync("weekly", 2, first[first.Count - 1].Number);
            Check(server.Requests[0].Path == "leaderboards/weekly/periods?limit=2", "the first page asks for the latest");
            Check(server.Requests[1].Path == "leaderboards/weekly/periods?limit=2&before=4", "the next page starts below the last number");
            Check(first[0].Number == 5 && next[0].Number == 3 && next[1].State == "closed", "periods read");
        }

        const string LoginAsB = "{\"access_token\":\"access-B\",\"refresh_token\":\"refresh-B\",\"token_type\":\"Bearer\",\"expires_in\":7200,\"refresh_expires_in\":2592000,\"player\":{\"id\":8,\"display_name\":\"Bo\",\"created\":false}}";

        static string NewDir()
        {
            return Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
        }

        /// <summary>Player 7's client on `server` whose handler, answering `path` the first time, logs player 8 in first.</summary>
        static GamingPanelClient SwitchingClient(FakeServer server, string dir, string path, Func<FakeRequest, FakeResponse> answer)
        {
            GamingPanelClient client = NewClient(server, dir);
            bool switched = false;
            server.Handler = r =>
            {
                if (r.Path == "auth/third-party/login") return FakeResponse.Ok(200, LoginAsB);
                if (switched || r.Path != path) return answer(r);
                switched = true;
                FakeResponse first = answer(r);
                client.LoginAsync(new DevCredentialProvider("bo", "Bo")).GetAwaiter().GetResult(); // before the answer arrives
                return first;
            };
            return client;
        }

        static async Task PurchaseRetryStaysWithItsPlayer()
        {
            var server = new FakeServer();
            int purchases = 0;
            GamingPanelClient client = SwitchingClient(server, NewDir(), "shop/purchase", r =>
            {
                purchases++;
                return purchases == 1
                    ? FakeResponse.Problem(503, "service_unavailable", "0") // player 7's try, retried after Retry-After
                    : FakeResponse.Ok(201, "{\"purchase_id\":1,\"status\":\"completed\",\"balances\":{\"gold\":1},\"granted\":[]}");
            });
            ApiError refused = null;
            try { await client.Shop.PurchaseAsync("5"); } catch (ApiError e) { refused = e; }
            Check(client.Auth.PlayerId == "8" && refused != null && refused.Code == ErrorCodes.NotLoggedIn, "the purchase stops with not_logged_in");
            Check(server.To("shop/purchase").Count == 1, "player 7's purchase is never sent with player 8's session");
        }

        static async Task RetryAfterPlayerSwitchStaysWithItsPlayer()
        {
            // Player 7's write is answered 503 (retried after Retry-After) or 401 token_expired (retried after a renewal);
            // player 8 logs in before that answer arrives.
            foreach (FakeResponse refusal in new[] { FakeResponse.Problem(503, "service_unavailable", "0"), FakeResponse.Problem(401, ErrorCodes.TokenExpired) })
            {
                var saves = new FakeSaves();
                var server = new FakeServer();
                string dir = NewDir();
                bool answered = false;
                GamingPanelClient client = SwitchingClient(server, dir, "player/saves/slot1", r =>
                {
                    if (r.Path == "auth/refresh") return server.TokenPair();
                    if (!answered && r.Path == "player/saves/slot1") { answered = true; return refusal; }
                    return saves.Handle(r);
                });
                client.CloudSaves.Save("slot1", "A's progress");
                SyncReport report = await client.CloudSaves.SyncAsync();

                List<FakeRequest> puts = server.To("player/saves/slot1");
                string what = " after a " + refusal.Status;
                Check(client.Auth.PlayerId == "8", "player 8 is logged in" + what);
                Check(puts.TrueForAll(p => p.Header("Authorization") == "Bearer access"), "every PUT with player 7's token" + what);
                Check(report.NeedsLogin && report.Rejected.Count == 0 && !saves.Documents.ContainsKey("slot1"), "the sync stops, nothing written for player 8" + what);
                string value;
                Check(!client.CloudSaves.TryGet("slot1", out value), "player 8 sees none of it" + what);

                GamingPanelClient back = NewClient(Serving(saves), dir); // player 7 again
                Check(back.CloudSaves.QueuedCount == 1 && back.CloudSaves.TryGet("slot1", out value) && value == "\"A's progress\"", "still queued for player 7" + what);
                SyncReport later = await back.CloudSaves.SyncAsync();
                Check(later.Written.Count == 1 && saves.Documents["slot1"].Value == "\"A's progress\"" &&
                    saves.SeenKeys.Contains(puts[0].Header("Idempotency-Key")), "sent in player 7's next session, with its key" + what);
            }
        }

        static async Task SyncReportCarriesTheError()
        {
            var saves = new FakeSaves();
            var server = new FakeServer();
            FakeResponse canned = FakeResponse.Problem(429, ErrorCodes.RateLimited, "120");
            server.Handler = r => canned ?? saves.Handle(r);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } });
            SyncReport limited = await client.CloudSaves.SyncAsync();
            Check(limited.Offline && limited.StillQueued == 1 && server.To("player/saves/slot1").Count == 1,
                "a 429 keeps the write; a Retry-After over 30 s is not waited inside the sync");
            Check(limited.Error != null && limited.Error.Status == 429 && limited.Error.Code == ErrorCodes.RateLimited && limited.Error.RetryAfterSeconds == 120f,
                "the report carries the 429 with its Retry-After (120 s), so the game knows when to sync again");

            canned = FakeResponse.Ok(200, "<html>Sign in to the Wi-Fi</html>");
            SyncReport portal = await client.CloudSaves.SyncAsync();
            Check(portal.Offline && portal.Error != null && portal.Error.Status == 200, "a captive portal's page: the error says what answered");
            canned = FakeResponse.Problem(403, ErrorCodes.PlayerBanned);
            SyncReport banned = await client.CloudSaves.SyncAsync();
            Check(banned.NeedsLogin && banned.Error != null && banned.Error.Code == ErrorCodes.PlayerBanned, "and the refusal behind NeedsLogin");

            canned = null;
            SyncReport later = await client.CloudSaves.SyncAsync();
            List<FakeRequest> puts = server.To("player/saves/slot1");
            Check(later.Written.Count == 1 && later.Error == null && !later.Offline, "a sync that went through has no error");
            Check(puts.TrueForAll(p => p.Header("Idempotency-Key") == puts[0].Header("Idempotency-Key")), "the same Idempotency-Key throughout");
        }

        static async Task BanKeepsTheQueue()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Problem(403, ErrorCodes.PlayerBanned);
            string dir = NewDir();
            GamingPanelClient client = NewClient(server, dir);
            client.CloudSaves.Save("slot1", 5);
            client.CloudSaves.Save("slot2", 6);
            SyncReport report = await client.CloudSaves.SyncAsync();
            Check(report.NeedsLogin && report.Rejected.Count == 0 && report.StillQueued == 2, "a ban asks for a login and drops nothing");
            Check(server.Requests.Count == 1, "the sync stops at the first answer");

            var saves = new FakeSaves(); // the ban is lifted; the player logs in again
            SyncReport after = await NewClient(Serving(saves), dir).CloudSaves.SyncAsync();
            Check(after.Written.Count == 2 && saves.Documents["slot1"].Value == "5" && saves.Documents["slot2"].Value == "6", "both written later");
        }

        static async Task SessionRefusalKeepsTheQueue()
        {
            // The panel's 403s about the session or the credential, not about the write (docs/guide/errors.md).
            foreach (string code in new[] { ErrorCodes.PermissionMissing, ErrorCodes.WrongCredentialKind, ErrorCodes.PlayerBanned, "permission_denied" })
            {
                foreach (bool delete in new[] { false, true })
                {
                    string what = (delete ? "a DELETE" : "a PUT") + " answered 403 " + code;
                    var saves = new FakeSaves();
                    var server = new FakeServer();
                    bool refusing = false;
                    server.Handler = r => refusing ? FakeResponse.Problem(403, code) : saves.Handle(r);
                    string dir = NewDir();
                    GamingPanelClient client = NewClient(server, dir);
                    client.CloudSaves.Save("slot1", 1);
                    await client.CloudSaves.SyncAsync();
                    if (delete) client.CloudSaves.Delete("slot1"); else client.CloudSaves.Save("slot1", 2);
                    client.CloudSaves.Save("slot2", 6);

                    refusing = true;
                    int before = server.Requests.Count;
                    SyncReport report = await client.CloudSaves.SyncAsync();
                    Check(report.NeedsLogin && !report.Offline && report.Rejected.Count == 0 && report.Written.Count == 0 && report.StillQueued == 2,
                        "the sync stops, asks for a login and drops nothing: " + what);
                    Check(report.Error != null && report.Error.Status == 403 && report.Error.Code == code, "the report carries the refusal: " + what);
                    Check(server.Requests.Count == before + 1, "nothing sent after it: " + what);
                    string value;
                    Check(delete ? !client.CloudSaves.TryGet("slot1", out value) : client.CloudSaves.TryGet("slot1", out value) && value == "2",
                        "the device still reads its queued write: " + what);

                    refusing = false; // logged in again (or the caller fixed): the queue goes, with its keys
                    GamingPanelClient back = NewClient(server, dir);
                    Check(back.CloudSaves.QueuedCount == 2, "still queued after a restart: " + what);
                    SyncReport after = await back.CloudSaves.SyncAsync();
                    List<FakeRequest> sent = server.To("player/saves/slot1");
                    Check(after.StillQueued == 0 && after.Rejected.Count == 0 &&
                        sent[sent.Count - 1].Header("Idempotency-Key") == sent[sent.Count - 2].Header("Idempotency-Key"),
                        "sent in the next session with the same Idempotency-Key: " + what);
                    Check((delete ? !saves.Documents.ContainsKey("slot1") : saves.Documents["slot1"].Value == "2") && saves.Documents["slot2"].Value == "6",
                        "and applied: " + what);
                }
            }

            // The one 403 about the write itself: the key is a game server's. That write is dropped, with its value.
            var panel = new FakeSaves();
            var refuser = new FakeServer();
            refuser.Handler = r => r.Path == "player/saves/locked" ? FakeResponse.Problem(403, ErrorCodes.SaveKeyNotWritable) : panel.Handle(r);
            GamingPanelClient writer = NewClient(refuser);
            writer.CloudSaves.Save("locked", 3);
            writer.CloudSaves.Save("slot2", 4);
            SyncReport refused = await writer.CloudSaves.SyncAsync();
            Check(refused.Rejected.Count == 1 && refused.Rejected[0].Key == "locked" && refused.Rejected[0].ValueJson == "3" &&
                refused.Rejected[0].Error.Code == ErrorCodes.SaveKeyNotWritable, "403 save_key_not_writable drops that write, reported with its value");
            Check(!refused.NeedsLogin && !refused.Offline && refused.StillQueued == 0 && panel.Documents["slot2"].Value == "4",
                "and the sync goes on with the other writes");
        }

        static async Task DeleteGoneOnlyOnSaveNotFound()
        {
            // The panel's save_not_found: the key is gone there (deleted on another device meanwhile).
            var saves = new FakeSaves();
            var server = new FakeServer();
            bool gone = false;
            server.Handler = r => gone && r.Method == "DELETE" ? FakeResponse.Problem(404, ErrorCodes.SaveNotFound) : saves.Handle(r);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", 1);
            await client.CloudSaves.SyncAsync();
            client.CloudSaves.Delete("slot1");
            saves.Documents.Remove("slot1");
            gone = true;
            SyncReport agreed = await client.CloudSaves.SyncAsync();
            string value;
            Check(agreed.StillQueued == 0 && agreed.Conflicts.Count == 0 && agreed.Rejected.Count == 0 && !agreed.Offline &&
                !client.CloudSaves.TryGet("slot1", out value), "a delete answered 404 save_not_found is agreed: gone on both sides");

            // The panel's generic not_found (no such endpoint: a wrong base URL or prefix) says nothing of the document.
            var panel = new FakeSaves();
            var proxy = new FakeServer();
            bool misrouted = false;
            proxy.Handler = r => misrouted ? FakeResponse.Problem(404, "not_found") : panel.Handle(r);
            GamingPanelClient device = NewClient(proxy);
            device.CloudSaves.Save("slot1", 1);
            await device.CloudSaves.SyncAsync();
            device.CloudSaves.Delete("slot1");
            misrouted = true;
            SyncReport report = await device.CloudSaves.SyncAsync();
            string read;
            Check(report.StillQueued == 1 && report.Conflicts.Count == 0 && report.Rejected.Count == 0 && report.Offline,
                "a delete answered 404 not_found stays queued");
            Check(report.Error != null && report.Error.Status == 404 && report.Error.Code == "not_found", "and the report carries the 404");
            Check(!device.CloudSaves.TryGet("slot1", out read) && panel.Documents.ContainsKey("slot1"), "the device reads it deleted; the panel still holds it");
            misrouted = false;
            SyncReport after = await device.CloudSaves.SyncAsync();
            List<FakeRequest> sent = proxy.To("player/saves/slot1");
            Check(after.StillQueued == 0 && !panel.Documents.ContainsKey("slot1") &&
                sent[sent.Count - 1].Header("Idempotency-Key") == sent[sent.Count - 2].Header("Idempotency-Key"),
                "the next sync deletes it, with the same Idempotency-Key");
        }

        static async Task NotThePanelsAnswerKeepsTheWrite()
        {
            var answers = new Dictionary<string, FakeResponse>
            {
                { "a captive portal's HTML 200", FakeResponse.Ok(200, "<html>Sign in to the Wi-Fi</html>") },
                { "a 200 that is not a document", FakeResponse.Ok(200, "{\"status\":\"ok\"}") },
                { "408", new FakeResponse { Status = 408, Body = "" } },
                { "a proxy's HTML 404", new FakeResponse { Status = 404, Body = "<html>Not Found</html>" } },
                { "a proxy's 405 JSON without a code", new FakeResponse { Status = 405, Body = "{\"message\":\"Method Not Allowed\"}" } },
            };
            foreach (bool delete in new[] { false, true })
            {
                foreach (KeyValuePair<string, FakeResponse> answer in answers)
                {
                    var saves = new FakeSaves();
                    var server = new FakeServer();
                    bool proxied = false;
                    server.Handler = r => proxied ? answer.Value : saves.Handle(r);
                    GamingPanelClient client = NewClient(server);
                    client.CloudSaves.Save("slot1", 1);
                    await client.CloudSaves.SyncAsync();
                    if (delete) client.CloudSaves.Delete("slot1"); else client.CloudSaves.Save("slot1", 2);
                    string what = (delete ? "a DELETE" : "a PUT") + " answered by " + answer.Key;

                    proxied = true;
                    SyncReport report = await client.CloudSaves.SyncAsync();
                    Check(report.Rejected.Count == 0 && report.Conflicts.Count == 0 && report.StillQueued == 1 && report.Offline, "kept: " + what);
                    proxied = false;
                    SyncReport after = await client.CloudSaves.SyncAsync();
                    List<FakeRequest> sent = server.To("player/saves/slot1");
                    Check(after.StillQueued == 0 && sent[sent.Count - 1].Header("Idempotency-Key") == sent[sent.Count - 2].Header("Idempotency-Key"),
                        "sent again with the same key: " + what);
                    Check(delete ? !saves.Documents.ContainsKey("slot1") : saves.Documents["slot1"].Value == "2", "and applied: " + what);
                }
            }
        }

        static async Task DiskFailureKeepsSavesInMemory()
        {
            Directory.CreateDirectory(TempRoot);
            string blocked = NewDir();
            File.WriteAllText(blocked, "a file where the cache's folder should be: every write fails");
            Check(!new LocalCache(blocked).Save("7", "probe", "{}"), "LocalCache.Save says the write failed");
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server, blocked);

            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 1 } });
            string local;
            Check(client.CloudSaves.TryGet("slot1", out local) && local == "{\"chapter\":1}" && client.CloudSaves.QueuedCount == 1, "the save is read back");
            SyncReport report = await client.CloudSaves.SyncAsync();
            Check(report.Written.Count == 1 && saves.Documents["slot1"].Value == "{\"chapter\":1}", "and synced");

            client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 2 } });
            SyncReport next = await client.CloudSaves.SyncAsync();
            List<FakeRequest> puts = server.To("player/saves/slot1");
            Check(next.Written.Count == 1 && puts[puts.Count - 1].Header("If-Match") == "\"1\"" && saves.Documents["slot1"].Value == "{\"chapter\":2}",
                "the next save builds on the synced version kept in memory");
        }

        static async Task AnswerAfterPlayerSwitchIsDiscarded()
        {
            var saves = new FakeSaves();
            saves.WriteElsewhere("slotA", "\"player 7's\"");
            GamingPanelClient client = SwitchingClient(new FakeServer(), NewDir(), "player/saves", saves.Handle);
            ApiError refused = null;
            try { await client.CloudSaves.RefreshAsync(); } catch (ApiError e) { refused = e; }
            string value;
            Check(client.Auth.PlayerId == "8" && refused != null && refused.Code == ErrorCodes.NotLoggedIn, "the refresh ends with not_logged_in");
            Check(!client.CloudSaves.TryGet("slotA", out value), "player 8's saves are untouched");

            var server = new FakeServer();
            client = SwitchingClient(server, NewDir(), "config", r => FakeResponse.Ok(200, "{\"version\":1,\"values\":{\"daily_bonus\":150}}"));
            var config = new RemoteConfigService(client, "1.0.0", "ios");
            refused = null;
            try { await config.GetAsync(); } catch (ApiError e) { refused = e; }
            Check(client.Auth.PlayerId == "8" && refused != null && refused.Code == ErrorCodes.NotLoggedIn, "the config fetch ends with not_logged_in");
            Check(config.LoadCached() == null, "player 8's config copy is untouched");

            // The same for every cached read (stats, inventory, shop, events, boards): CachedFetch.
            client = SwitchingClient(new FakeServer(), NewDir(), "player/stats",
                r => FakeResponse.Ok(200, "{\"player_id\":7,\"level\":9,\"xp\":1,\"xp_to_next_level\":1,\"stats\":{}}"));
            refused = null;
            try { await client.Player.GetStatsAsync(); } catch (ApiError e) { refused = e; }
            string body;
            DateTime at;
            Check(client.Auth.PlayerId == "8" && refused != null && refused.Code == ErrorCodes.NotLoggedIn, "the stats read ends with not_logged_in");
            Check(!client.Cache.TryLoad("8", "player_stats", out body, out at), "player 8's stats copy is untouched");
        }

        static async Task LostAnswerIsResentFirst()
        {
            foreach (bool restart in new[] { false, true })
            {
                var saves = new FakeSaves();
                var server = new FakeServer();
                int puts = 0;
                server.Handler = r =>
                {
                    puts++;
                    if (puts == 1)
                    {
                        saves.Handle(r); // the panel wrote it; its answer is lost (a gateway gave up)
                        return FakeResponse.Problem(504, "gateway_timeout", "0");
                    }
                    return puts <= 3 ? FakeResponse.Problem(503, "service_unavailable", "0") : saves.Handle(r); // down for the retries
                };
                string dir = NewDir();
                GamingPanelClient client = NewClient(server, dir);
                client.CloudSaves.Save("slot1", "first");
                SyncReport lost = await client.CloudSaves.SyncAsync();
                string what = restart ? " (after a restart)" : "";
                Check(lost.Offline && lost.StillQueued == 1 && saves.Documents["slot1"].Key == 1, "the write landed, its answer did not" + what);

                if (restart) client = NewClient(server, dir);
                client.CloudSaves.Save("slot1", "second");
                SyncReport report = await client.CloudSaves.SyncAsync();

                List<FakeRequest> sent = server.To("player/saves/slot1");
                FakeRequest again = sent[sent.Count - 2], newer = sent[sent.Count - 1];
                Check(report.Conflicts.Count == 0 && report.StillQueued == 0, "no conflict with the device's own write" + what);
                Check(again.Header("Idempotency-Key") == sent[0].Header("Idempotency-Key") && again.Header("If-None-Match") == "*" &&
                    Json.Serialize(again.Body) == Json.Serialize(sent[0].Body), "the unconfirmed write went again first, as it was" + what);
                Check(newer.Header("If-Match") == "\"1\"" && newer.Header("Idempotency-Key") != again.Header("Idempotency-Key"),
                    "then the newer value on the version it made" + what);
                Check(saves.Documents["slot1"].Key == 2 && saves.Documents["slot1"].Value == "\"second\"", "the server holds the newest value" + what);
                string local;
                Check(client.CloudSaves.TryGet("slot1", out local) && local == "\"second\"", "and so does the device" + what);
            }
        }

        static async Task SaveWithoutPlayerIsRefused()
        {
            var server = new FakeServer();
            server.Handler = r => FakeResponse.Offline();
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
            var cache = new LocalCache(Path.Combine(TempRoot, Guid.NewGuid().ToString("N")));
            var client = new GamingPanelClient(config, new MemoryTokenStorage(), server, cache); // never logged in
            bool refused = false;
            try { client.CloudSaves.Save("slot1", 1); }
            catch (InvalidOperationException) { refused = true; }
            Check(refused, "a save with nobody logged in is refused, not lost without a word");
            await Task.Yield();
        }

        static async Task UnreadableStateIsSetAside()
        {
            var saves = new FakeSaves { Online = false };
            string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            NewClient(Serving(saves), dir).CloudSaves.Save("slot1", 1); // queued offline
            string file = Directory.GetFiles(dir, "cloud_saves.json", SearchOption.AllDirectories)[0];
            File.WriteAllText(file, "{\"fetched_at\": \"2026-01-01T00:00:00Z\", \"body\": \"{not json"); // cut short

            GamingPanelClient restarted = NewClient(Serving(saves), dir);
            restarted.CloudSaves.Save("slot2", 2);

            string[] aside = Directory.GetFiles(Path.GetDirectoryName(file), "cloud_saves_unreadable-*.json");
            Check(aside.Length == 1 && File.ReadAllText(aside[0]).EndsWith("{not json"), "the unreadable copy is kept aside as it was");
            string value;
            Check(restarted.CloudSaves.TryGet("slot2", out value) && value == "2", "the new save is kept");
            Check(File.ReadAllText(file).Contains("slot2"), "and written to a new local copy");
            await Task.Yield();
        }

        static async Task LateRefreshKeepsTheNewerWrite()
        {
            var saves = new FakeSaves();
            FakeServer server = Serving(saves);
            GamingPanelClient client = NewClient(server);
            client.CloudSaves.Save("slot1", 1);
            await client.CloudSaves.SyncAsync(); // version 1
            client.CloudSaves.Save("slot1", 2);
            Func<FakeRequest, FakeResponse> panel = server.Handler;
            server.Handler = r =>
            {
                if (r.Path != "player/saves" || r.Method != "GET") return panel(r);
                FakeResponse listedAtVersion1 = panel(r);
                // Before that list arrives, the device's queued write goes through: version 2.
                client.CloudSaves.SyncAsync().GetAwaiter().GetResult();
                return listedAtVersion1;
            };

            Cached<List<SaveDocument>> late = await client.CloudSaves.RefreshAsync();

            string value;
            Check(client.CloudSaves.TryGet("slot1", out value) && value == "2", "the device's own newer write is read, not the list's version 1");
            // The list was not applied: the copies were never read from a list on this device (as the Unreal kit says).
            Check(!late.FromCache && late.FetchedAtUtc == DateTime.MinValue,
                "the copies' fetch time is not moved by a list that was not applied, not " + late.FetchedAtUtc.ToString("o"));
            server.Handler = panel;
            client.CloudSaves.Save("slot1", 3);
            SyncReport report = await client.CloudSaves.SyncAsync();
            Check(report.Conflicts.Count == 0 && saves.Documents["slot1"].Key == 3, "the next save builds on version 2: no conflict with itself");
        }

        static async Task InvalidKeyIsRefusedWhenSaved()
        {
            foreach (string key in new[] { "a/b", "", ".", "..", "slot?1", "naïve", new string('k', 65) })
            {
                Check(!CloudSaveService.IsValidKey(key), "'" + key + "' is not a save key");
                bool refused = false;
                var server = new FakeServer();
                server.Handler = r => FakeResponse.Offline();
                var config = GamingPanelConfig.Create("http://panel.test/api/v1/", "demo-client-key");
                var client = new GamingPanelClient(config, new MemoryTokenStorage(), server, new LocalCache(Path.Combine(TempRoot, Guid.NewGuid().ToString("N"))));
                try { client.CloudSaves.Save(key, 1); }
                catch (ArgumentException) { refused = true; }
                Check(refused, "a save under '" + key + "' is refused when the game saves");
            }
            foreach (string key in new[] { "slot1", "a.b-c_d", "...", new string('k', 64) })
                Check(CloudSaveService.IsValidKey(key), "'" + key + "' is a save key");
            await Task.Yield();
        }
    }
}
#endif
