// Races between threads (and re-entrant handlers) in the Unity example SDK, run with the SDK tests
// (scripts/check_examples.sh) against the fake server of SdkBehaviourTests.cs. Outside Unity there is no
// SynchronizationContext, so the kit's await continuations run on pool threads, as they do in a game that calls the
// kit off the main thread. Each case forces its interleaving: a gate holds one thread at the racy point (a slow
// SessionChanged handler, LocalCache.BeforeWrite, the PlayerPrefs stand-in's BeforeSetString) while another thread
// runs until it has finished or is blocked (waiting for the lock that now guards that point); then the first goes on.
// What may be held is started with Task.Run, so the held thread is never the test's own.
// Without the lock, the second thread finishes first and the first one's stale write (or event) comes last.
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel.Tests
{
    static class RaceTests
    {
        static readonly string TempRoot = Path.Combine(Path.GetTempPath(), "gp-unity-races-" + Guid.NewGuid().ToString("N"));
        static readonly TimeSpan Long = TimeSpan.FromSeconds(10); // a gate never waits longer (a broken case fails, never hangs)
        static readonly TimeSpan Settled = TimeSpan.FromMilliseconds(50);
        const string Stats = "{\"player_id\":7,\"level\":3,\"xp\":250,\"xp_to_next_level\":50,\"stats\":{\"kills\":12}}";
        const string Completed = "{\"purchase_id\":99,\"status\":\"completed\",\"balances\":{\"gold\":380}}";
        static int _games;

        public static IEnumerable<KeyValuePair<string, Func<Task>>> Cases()
        {
            yield return Case("race: a login's SessionChanged(tokens) still being raised when another thread logs out reaches the game before the logout's null, never after it", LoginToldBeforeAConcurrentLogout);
            yield return Case("race: a SessionChanged handler that logs out: the handlers after it get null, never the login's tokens after it", HandlerThatLogsOutIsTheLastWord);
            yield return Case("race: SessionChanged handlers never run under the token lock, even when the panel's answers come at once (another thread may use the TokenManager)", HandlersNeverRunUnderTheTokenLock);
            yield return Case("race: a cached read's write under way when the deletion is confirmed: the deleted player's file is not written back", StatsWriteUnderWayAtTheWipe);
            yield return Case("race: a remote config write under way when the deletion is confirmed: the deleted player's file is not written back", ConfigWriteUnderWayAtTheWipe);
            yield return Case("race: a cloud-save reload's write under way when the deletion is confirmed: the deleted player's file is not written back", CloudSaveWriteUnderWayAtTheWipe);
            yield return Case("race: an analytics queue write under way when the deletion is confirmed: the deleted player's file is not written back", AnalyticsWriteUnderWayAtTheWipe);
            yield return Case("race: a purchase completing while another starts: the other's pending key is kept and resumed after a restart", PendingKeyKeptWhileAnotherCompletes);
            yield return Case("race: two taps on the same offer at once are one attempt with one Idempotency-Key", TwoTapsAtOnceShareOneKey);
            yield return Case("race: a purchase completing while a deleted player's pending keys are wiped does not put them back", PurchaseCompletingDoesNotUndoTheWipe);
        }

        static KeyValuePair<string, Func<Task>> Case(string name, Func<Task> run)
        {
            return new KeyValuePair<string, Func<Task>>(name, run);
        }

        static void Check(bool condition, string what)
        {
            if (!condition) throw new Exception("expected " + what);
        }

        static async Task<ApiError> Fails(Func<Task> call)
        {
            try { await call(); }
            catch (ApiError e) { return e; }
            return null;
        }

        /// <summary>
        /// Waits until `done`, or until the thread `thread` answers (once it is known) has run to its end or has been
        /// blocked for a while (WaitSleepJoin for Settled on end: waiting for a lock the held thread holds).
        /// </summary>
        static void WaitUntilFinishedOrBlocked(Func<bool> done, Func<Thread> thread)
        {
            Stopwatch watch = Stopwatch.StartNew();
            TimeSpan? blockedSince = null;
            while (!done())
            {
                if (watch.Elapsed > Long) throw new Exception("the other thread neither finished nor blocked");
                Thread other = thread();
                System.Threading.ThreadState state = other == null ? System.Threading.ThreadState.Running : other.ThreadState;
                if ((state & System.Threading.ThreadState.Stopped) != 0) return;
                if ((state & System.Threading.ThreadState.WaitSleepJoin) != 0)
                {
                    if (!blockedSince.HasValue) blockedSince = watch.Elapsed;
                    else if (watch.Elapsed - blockedSince.Value >= Settled) return;
                }
                else blockedSince = null;
                Thread.Sleep(1);
            }
        }

        static void WaitUntilFinishedOrBlocked(Thread thread)
        {
            WaitUntilFinishedOrBlocked(() => false, () => thread);
        }

        /// <summary>Holds the first thread that calls Hold (after Arm) until Release; Held says it is there.</summary>
        sealed class Gate
        {
            readonly ManualResetEventSlim _held = new ManualResetEventSlim();
            readonly ManualResetEventSlim _released = new ManualResetEventSlim();
            int _armed;

            public void Arm() { Interlocked.Exchange(ref _armed, 1); }

            public void Hold()
            {
                if (Interlocked.Exchange(ref _armed, 0) != 1) return;
                _held.Set();
                _released.Wait(Long);
            }

            public void WaitHeld(string what) { Check(_held.Wait(Long), what + " (setup)"); }

            public void Release() { _released.Set(); }
        }

        static MemoryTokenStorage Session(string player)
        {
            var storage = new MemoryTokenStorage();
            storage.Save(new TokenSet
            {
                AccessToken = "access-" + player, RefreshToken = "refresh-" + player, PlayerId = player, DisplayName = "P" + player,
                AccessExpiresAtUtc = DateTime.UtcNow.AddHours(1), RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(20),
            });
            return storage;
        }

        static GamingPanelClient NewClient(FakeServer server, ITokenStorage storage, string gameKey, LocalCache cache = null)
        {
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", gameKey);
            config.maxTransientRetries = 0;
            return new GamingPanelClient(config, storage, server, cache ?? new LocalCache(Path.Combine(TempRoot, Guid.NewGuid().ToString("N"))));
        }

        static string NewGameKey()
        {
            return "race-test-" + Interlocked.Increment(ref _games); // its own PlayerPrefs slot for pending purchases
        }

        static string Describe(List<TokenSet> told)
        {
            var names = new List<string>();
            foreach (TokenSet tokens in told) names.Add(tokens == null ? "null" : "tokens");
            return "[" + string.Join(", ", names) + "]";
        }

        // ------------------------------------------------------------------------------------ 1. SessionChanged order

        /// <summary>
        /// The login stores its tokens and raises SessionChanged(tokens) outside the token lock; its first handler is slow
        /// (held here, as a thread pre-empted at that point would be). Another thread logs out meanwhile. The game's
        /// handlers must not end on the login's tokens while the device is logged out.
        /// </summary>
        static async Task LoginToldBeforeAConcurrentLogout()
        {
            var server = new FakeServer();
            var loginReturned = new ManualResetEventSlim();
            server.Handler = r =>
            {
                if (r.Path != "auth/third-party/login") return FakeResponse.Ok(204, "");
                // Answered once LoginAsync has returned (as the network would be): the login's answer is stored and told on
                // the thread of that answer, not inside LoginAsync's call.
                loginReturned.Wait(Long);
                return server.TokenPair();
            };
            GamingPanelClient client = NewClient(server, new MemoryTokenStorage(), NewGameKey());
            var gate = new Gate();
            var told = new List<TokenSet>();
            client.Auth.SessionChanged += tokens => { if (tokens != null) gate.Hold(); };
            client.Auth.SessionChanged += tokens => { lock (told) told.Add(tokens); };

            gate.Arm();
            Task<LoginResult> login = Task.Run(() =>
            {
                Task<LoginResult> started = client.LoginAsync(new DevCredentialProvider("tess", "Tess"));
                loginReturned.Set();
                return started;
            });
            gate.WaitHeld("the login's SessionChanged under way");
            Task logout = null;
            var other = new Thread(() => logout = client.LogoutAsync());
            other.Start();
            WaitUntilFinishedOrBlocked(other);
            gate.Release();
            await login;
            other.Join();
            await logout;

            Check(!client.Auth.HasSession, "logged out (setup)");
            lock (told)
                Check(told.Count > 0 && told[told.Count - 1] == null,
                    "the last SessionChanged the game got to be the logout's null, got " + Describe(told));
        }

        /// <summary>A game that refuses this account on this device logs out from its SessionChanged handler; a later handler shows who is logged in.</summary>
        static async Task HandlerThatLogsOutIsTheLastWord()
        {
            var server = new FakeServer();
            server.Handler = r => r.Path == "auth/third-party/login" ? server.TokenPair() : FakeResponse.Ok(204, "");
            GamingPanelClient client = NewClient(server, new MemoryTokenStorage(), NewGameKey());
            var told = new List<TokenSet>();
            Task logout = null;
            client.Auth.SessionChanged += tokens => { if (tokens != null && logout == null) logout = client.LogoutAsync(); };
            client.Auth.SessionChanged += tokens => { lock (told) told.Add(tokens); };

            await client.LoginAsync(new DevCredentialProvider("tess", "Tess"));
            Check(logout != null, "the handler logged out (setup)");
            await logout;

            Check(!client.Auth.HasSession, "logged out (setup)");
            lock (told)
            {
                Check(told.Count > 0 && told[told.Count - 1] == null, "the last SessionChanged to be the logout's null, got " + Describe(told));
                Check(told.TrueForAll(tokens => tokens == null), "no SessionChanged(tokens) after the logout's null, got " + Describe(told));
            }
        }

        /// <summary>A transport whose answers are there at once (completed tasks), as a game's own transport or cache may give them.</summary>
        sealed class AtOnceTransport : IGamingPanelTransport
        {
            public Func<string, FakeResponse> Answer;

            public Task<HttpResult> SendAsync(string method, string path, object body, IDictionary<string, string> headers, CancellationToken ct)
            {
                FakeResponse response = Answer(path);
                var answered = new TaskCompletionSource<HttpResult>();
                if (response.Network) answered.SetException(ApiError.Network("fake: connection refused"));
                else if (response.Status >= 200 && response.Status < 300)
                    answered.SetResult(new HttpResult(response.Status, response.Body, response.Headers ?? new Dictionary<string, string>()));
                else answered.SetException(ApiError.FromResponse(response.Status, response.Body, response.RetryAfter));
                return answered.Task;
            }
        }

        /// <summary>
        /// SessionChanged is raised one change at a time (under a lock of its own), so it must never be raised while the
        /// token lock is held: a handler's call into the TokenManager, on another thread, would then wait for ever. Here the
        /// login and the refresh complete inside LoginAsync and RefreshAsync, which used to start them under that lock.
        /// </summary>
        static async Task HandlersNeverRunUnderTheTokenLock()
        {
            var pairs = new FakeServer();
            bool refuse = false;
            var transport = new AtOnceTransport
            {
                Answer = path => path == "auth/refresh" && refuse ? FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused)
                    : path == "auth/third-party/login" || path == "auth/refresh" ? pairs.TokenPair()
                    : FakeResponse.Ok(204, ""),
            };
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", NewGameKey());
            var client = new GamingPanelClient(config, new MemoryTokenStorage(), transport, new LocalCache(Path.Combine(TempRoot, Guid.NewGuid().ToString("N"))));
            var free = new List<string>();
            client.Auth.SessionChanged += tokens =>
            {
                // The token lock is free when another thread can read the generation (it takes that lock).
                bool answered = Task.Run(() => client.Auth.Generation).Wait(TimeSpan.FromSeconds(2));
                lock (free) free.Add((tokens == null ? "null" : "tokens") + (answered ? "" : " (under the token lock)"));
            };

            await client.LoginAsync(new DevCredentialProvider("tess", "Tess"));
            await client.Auth.RefreshAsync(CancellationToken.None);
            refuse = true; // a refused refresh: the session dropped (null) and the silent login's tokens
            await client.Auth.RefreshAsync(CancellationToken.None);
            lock (free)
                Check(string.Join(", ", free) == "tokens, tokens, null, tokens",
                    "every SessionChanged (login, refresh, a refused refresh's null and re-login) raised with the token lock free, got " + string.Join(", ", free));
        }

        // ------------------------------------------------------------------------------------ 2. the deleted player's files

        static Task StatsWriteUnderWayAtTheWipe()
        {
            return WriteUnderWayAtTheWipe("player_stats", client => client.Player.GetStatsAsync());
        }

        static Task ConfigWriteUnderWayAtTheWipe()
        {
            return WriteUnderWayAtTheWipe("remote_config", client => client.RemoteConfig.GetAsync());
        }

        // These two held before LocalCache took its lock too (cloud save writes under its own lock, the analytics queue
        // under its write lock, and the wipe takes both through Cache.Cleared before the folder goes): kept as guards.
        static Task CloudSaveWriteUnderWayAtTheWipe()
        {
            return WriteUnderWayAtTheWipe("cloud_saves", client => client.CloudSaves.RefreshAsync());
        }

        static Task AnalyticsWriteUnderWayAtTheWipe()
        {
            return WriteUnderWayAtTheWipe("analytics_queue", client =>
            {
                client.Analytics.Track("level_complete");
                client.Analytics.SaveNow(); // the write of the queue (on a pool thread, as the kit's background writes)
                return Task.CompletedTask;
            });
        }

        /// <summary>
        /// Player 7's `start` (a read, a reload, a queue write) got its answer before the deletion was confirmed, and its
        /// write of `written` is under way (held once past the check that the player is not erased) when the panel
        /// confirms DeleteAccountAsync and the kit wipes the player. Nothing of player 7 may be on disk afterwards.
        /// </summary>
        static async Task WriteUnderWayAtTheWipe(string written, Func<GamingPanelClient, Task> start)
        {
            var server = new FakeServer();
            server.Handler = r =>
            {
                if (r.Method == "DELETE" && r.Path.StartsWith("player?")) return FakeResponse.Ok(204, "");
                if (r.Path == "player/stats") return FakeResponse.Ok(200, Stats);
                if (r.Path == "config") return FakeResponse.Ok(200, "{\"version\":3,\"values\":{\"daily_bonus\":100}}");
                if (r.Path == "player/saves")
                    return FakeResponse.Ok(200, "[{\"key\":\"slot1\",\"version\":2,\"value\":{\"chapter\":3},\"updated_at\":\"2025-01-02T03:04:05Z\"}]");
                return FakeResponse.Problem(404, "not_found");
            };
            string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
            var cache = new LocalCache(dir);
            GamingPanelClient client = NewClient(server, Session("7"), NewGameKey(), cache);
            string folder = Path.Combine(dir, "7");
            try
            {
                var gate = new Gate();
                cache.BeforeWrite = (player, name) => { if (player == "7" && name == written) gate.Hold(); };
                Thread wiping = null; // the thread the confirmed deletion wipes the player on (it logs out first)
                client.Auth.SessionChanged += tokens => { if (tokens == null) Volatile.Write(ref wiping, Thread.CurrentThread); };

                gate.Arm();
                Task write = Task.Run(() => start(client));
                gate.WaitHeld("the write of " + written + " under way");
                Task deletion = Task.Run(() => client.DeleteAccountAsync());
                WaitUntilFinishedOrBlocked(() => deletion.IsCompleted, () => Volatile.Read(ref wiping));
                gate.Release();
                await Fails(() => write);
                await deletion;

                Check(!client.Auth.HasSession, "logged out (setup)");
                string left = Directory.Exists(folder) ? string.Join(", ", Directory.GetFiles(folder)) : null;
                Check(left == null, "no folder of the deleted player on disk, found one with: " + left);
                string body;
                DateTime at;
                Check(!cache.TryLoad("7", written, out body, out at), "no " + written + " of the deleted player");
            }
            finally
            {
                cache.BeforeWrite = null;
                try
                {
                    if (Directory.Exists(dir)) Directory.Delete(dir, true);
                    if (Directory.Exists(TempRoot) && Directory.GetFileSystemEntries(TempRoot).Length == 0) Directory.Delete(TempRoot);
                }
                catch (IOException) { }
            }
        }

        // ------------------------------------------------------------------------------------ 3. pending purchase keys

        /// <summary>
        /// Offer 12's purchase completes and its key is being taken off the pending list (held between reading the list
        /// and writing it back) while the player taps offer 13 on another thread; offer 13's answer is lost. Offer 13's
        /// key must still be pending, and a restart sends it again with that key.
        /// </summary>
        static async Task PendingKeyKeptWhileAnotherCompletes()
        {
            var server = new FakeServer();
            var asked = new ManualResetEventSlim();
            var answer = new ManualResetEventSlim();
            bool online = false;
            server.Handler = r =>
            {
                if (r.Path != "shop/purchase") return FakeResponse.Problem(404, "not_found");
                if (Json.GetLong(r.Body, "offer_id") == 12)
                {
                    asked.Set();
                    answer.Wait(Long);
                    return FakeResponse.Ok(201, Completed);
                }
                return Volatile.Read(ref online) ? FakeResponse.Ok(201, Completed) : FakeResponse.Offline();
            };
            string gameKey = NewGameKey();
            string pendingKey = "gamingpanel.pending_purchases." + gameKey;
            MemoryTokenStorage storage = Session("7");
            GamingPanelClient client = NewClient(server, storage, gameKey);
            var gate = new Gate();
            PlayerPrefs.BeforeSetString = key => { if (key == pendingKey) gate.Hold(); };
            try
            {
                Task<PurchaseResult> first = Task.Run(() => client.Shop.PurchaseAsync("12"));
                Check(asked.Wait(Long), "offer 12's key saved and its request out (setup)"); // its answer waits
                gate.Arm();
                answer.Set();
                gate.WaitHeld("offer 12's key being taken off the list");
                Task<PurchaseResult> second = null;
                var tap = new Thread(() => second = client.Shop.PurchaseAsync("13"));
                tap.Start();
                WaitUntilFinishedOrBlocked(tap);
                gate.Release();
                PurchaseResult done = await first;
                tap.Join();
                ApiError lost = await Fails(() => second);
                Check(done.Status == PurchaseStatus.Completed, "offer 12 completed (setup)");
                Check(lost != null && lost.Code == ErrorCodes.NetworkError, "offer 13's answer lost (setup)");
            }
            finally
            {
                PlayerPrefs.BeforeSetString = null;
            }

            Check(client.Shop.HasPendingPurchases, "offer 13's purchase still pending, to be sent again after a restart");
            Volatile.Write(ref online, true);
            GamingPanelClient restarted = NewClient(server, storage, gameKey);
            List<PurchaseResult> resumed = await restarted.Shop.ResumePendingPurchasesAsync();
            List<FakeRequest> thirteen = server.To("shop/purchase").FindAll(r => Json.GetLong(r.Body, "offer_id") == 13);
            Check(resumed.Count == 1 && thirteen.Count == 2, "offer 13 sent again by the restart");
            Check(thirteen[1].Header("Idempotency-Key") == thirteen[0].Header("Idempotency-Key"), "with its first Idempotency-Key");
            Check(!restarted.Shop.HasPendingPurchases, "nothing pending once it is answered");
        }

        /// <summary>
        /// The first tap on offer 12 found no attempt and is saving its new one (held before the list is written) when a
        /// second tap on the same offer comes on another thread: it must continue that attempt, not start a second
        /// purchase with a key of its own.
        /// </summary>
        static async Task TwoTapsAtOnceShareOneKey()
        {
            var server = new FakeServer();
            server.Handler = r => r.Path == "shop/purchase" ? FakeResponse.Offline() : FakeResponse.Problem(404, "not_found");
            string gameKey = NewGameKey();
            string pendingKey = "gamingpanel.pending_purchases." + gameKey;
            GamingPanelClient client = NewClient(server, Session("7"), gameKey);
            var gate = new Gate();
            PlayerPrefs.BeforeSetString = key => { if (key == pendingKey) gate.Hold(); };
            Task<PurchaseResult> first = null, second = null;
            try
            {
                gate.Arm();
                var tapOne = new Thread(() => first = client.Shop.PurchaseAsync("12"));
                tapOne.Start();
                gate.WaitHeld("the first tap saving its attempt");
                var tapTwo = new Thread(() => second = client.Shop.PurchaseAsync("12"));
                tapTwo.Start();
                WaitUntilFinishedOrBlocked(tapTwo);
                gate.Release();
                tapOne.Join();
                tapTwo.Join();
            }
            finally
            {
                PlayerPrefs.BeforeSetString = null;
            }
            await Fails(() => first);
            await Fails(() => second);

            var keys = new HashSet<string>();
            foreach (FakeRequest sent in server.To("shop/purchase")) keys.Add(sent.Header("Idempotency-Key"));
            Check(server.To("shop/purchase").Count == 2, "both taps sent (setup)");
            Check(keys.Count == 1, "one Idempotency-Key for the two taps, got " + keys.Count);
            Check(client.Shop.HasPendingPurchases, "the attempt pending");
        }

        /// <summary>
        /// Player 7's purchase is pending (its answer lost). Later, on the same device, player 8's purchase completes and
        /// its key is being taken off the list (held between reading and writing it) when player 7 is wiped (a login
        /// settled 7's deletion as done). Player 7's key must not come back.
        /// </summary>
        static async Task PurchaseCompletingDoesNotUndoTheWipe()
        {
            var server = new FakeServer();
            var asked = new ManualResetEventSlim();
            var answer = new ManualResetEventSlim();
            server.Handler = r =>
            {
                if (r.Path != "shop/purchase") return FakeResponse.Problem(404, "not_found");
                if (r.Header("Authorization") == "Bearer access-7") return FakeResponse.Offline();
                asked.Set();
                answer.Wait(Long);
                return FakeResponse.Ok(201, Completed);
            };
            string gameKey = NewGameKey();
            string pendingKey = "gamingpanel.pending_purchases." + gameKey;
            GamingPanelClient seven = NewClient(server, Session("7"), gameKey);
            await Fails(() => seven.Shop.PurchaseAsync("12"));
            Check(seven.Shop.HasPendingPurchases, "player 7's purchase pending (setup)");

            GamingPanelClient eight = NewClient(server, Session("8"), gameKey); // the same device and game, later
            var gate = new Gate();
            PlayerPrefs.BeforeSetString = key => { if (key == pendingKey) gate.Hold(); };
            try
            {
                Task<PurchaseResult> purchase = Task.Run(() => eight.Shop.PurchaseAsync("13"));
                Check(asked.Wait(Long), "player 8's key saved and the request out (setup)");
                gate.Arm();
                answer.Set();
                gate.WaitHeld("player 8's key being taken off the list");
                var wipe = new Thread(() => eight.WipePlayer("7"));
                wipe.Start();
                WaitUntilFinishedOrBlocked(wipe);
                gate.Release();
                PurchaseResult done = await purchase;
                wipe.Join();
                Check(done.Status == PurchaseStatus.Completed, "player 8's purchase completed (setup)");
            }
            finally
            {
                PlayerPrefs.BeforeSetString = null;
            }

            Check(eight.Auth.PlayerId == "8", "player 8 still logged in (setup)");
            Check(!seven.Shop.HasPendingPurchases, "no pending purchase key of the deleted player 7 back, list: " + PlayerPrefs.GetString(pendingKey));
            Check(!eight.Shop.HasPendingPurchases, "player 8's completed purchase not pending");
        }
    }
}
#endif
