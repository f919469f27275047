// Behaviour tests of account deletion and the data export (AccountService), run with the SDK tests
// (scripts/check_examples.sh) against the fake server of SdkBehaviourTests.cs.
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel.Tests
{
    static class AccountDeletionTests
    {
        static readonly string TempRoot = Path.Combine(Path.GetTempPath(), "gp-unity-account-" + Guid.NewGuid().ToString("N"));
        const string Stats = "{\"player_id\":7,\"level\":3,\"xp\":250,\"xp_to_next_level\":50,\"stats\":{\"kills\":12}}";
        // The one request the panel takes: the confirmation in the query string, percent-encoded (%20, not +), no body.
        const string DeletePath = "player?confirm=delete%20my%20account";
        const string Export = "{\"exported_at\":\"2025-01-02T03:04:05Z\",\"accounts\":{\"player\":{\"id\":7,\"display_name\":\"Tess\"}},\"cloudsave\":{\"saves\":[]}}";
        static int _games;

        public static IEnumerable<KeyValuePair<string, Func<Task>>> Cases()
        {
            yield return Case("account: DeleteAccountAsync sends DELETE player?confirm=delete%20my%20account with no body; a 204 wipes every local store", DeleteWipesEverything);
            yield return Case("account: a 500 or no answer (after the retries) and a 400 confirmation_required reach the game unchanged; nothing is wiped", FailureWipesNothing);
            yield return Case("account: a 401 token_revoked with account_deleted on the resend after a DELETE whose answer was lost counts as done (no refresh, no silent re-login)", UnauthorizedAfterALostAnswerIsDone);
            yield return Case("account: a DELETE left unanswered is resent by the next DeleteAccountAsync with its token; its 401 token_revoked with account_deleted counts as done", NextCallResendsTheUnansweredDelete);
            yield return Case("account: a 401 token_expired/invalid_token on the resend is not done: refreshed (no re-login), new tokens send the DELETE again", ExpiredResendRefreshesAndSendsAgain);
            yield return Case("account: a 401 token_expired on the resend, then the refresh answers 401 token_revoked (account_deleted): done, with no silent re-login", ExpiredResendThenRevokedRefreshIsDone);
            yield return Case("account: a 401 token_expired on the resend, then the refresh fails otherwise: the error, nothing wiped, no re-login", ExpiredResendThenFailedRefreshWipesNothing);
            yield return Case("account: a 401 token_expired before anything was deleted renews the session and sends again", ExpiredTokenIsRenewedFirst);
            yield return Case("account: a DELETE left unanswered, then the timer's refresh refused with 401 token_revoked (account_deleted): done (wiped, SessionLost), no login", LostAnswerThenRevokedRefreshIsDone);
            yield return Case("account: a DELETE left unanswered, then another call's refresh refused with 401 token_revoked (account_deleted): done, the call fails not_logged_in, no login", LostAnswerThenAnotherCallsRefreshIsDone);
            yield return Case("account: a refresh refused with 401 token_revoked (account_deleted) while DeleteAccountAsync waits to resend: it completes, no DELETE after it, no login", RevokedRefreshFinishesTheWaitingDelete);
            yield return Case("account: after a restart the unconfirmed DELETE is still kept: a refresh refused with 401 token_revoked (account_deleted) is done, no login", RestartKeepsTheUnconfirmedDelete);
            yield return Case("account: after a restart DeleteAccountAsync resends the DELETE with its token; its 401 token_revoked (account_deleted) is done, no refresh, no login", RestartThenDeleteAccountResends);
            yield return Case("account: after a restart the next call resends the DELETE first; its 401 token_revoked (account_deleted) is done and the call fails not_logged_in", RestartThenNextCallFinishesTheDelete);
            yield return Case("account: a 5xx or no answer to the resend keeps the unconfirmed DELETE on disk: nothing wiped, no silent re-login, a later resend finishes it", TransientResendKeepsTheDelete);
            yield return Case("account: the unconfirmed DELETE is saved before it is sent: an app killed while it is out restarts with it", StateSavedBeforeTheDeleteGoesOut);
            yield return Case("account: a DELETE refused as it came (403, 400) is not kept: a refused refresh logs in again as before", RefusedDeleteIsForgotten);
            yield return Case("account: LogoutAsync while the DELETE waits to be resent ends the run (not_logged_in): nothing resent, nothing wiped, the DELETE still pending without a session, no silent login", LogoutForgetsTheUnconfirmedDelete);
            yield return Case("account: Account.DeletionPending from the DELETE's send until the panel confirms it, after a restart too", DeletionPendingSaysSo);
            yield return Case("account: LogoutAsync + LoginAsync as the same player while DeleteAccountAsync waits to resend: the run ends, no DELETE with the new session, nothing wiped, the login says deletion_not_done", LogoutThenLoginSamePlayerDuringResendWait);
            yield return Case("account: LoginAsync again (same player) while DeleteAccountAsync waits to resend: the run ends, no DELETE after the login, deletion_not_done", LoginSamePlayerDuringResendWait);
            yield return Case("account: a 401 token_revoked without account_deleted on the resend is not the erasure: nothing wiped, the session lost (SessionLost), the DELETE kept, no login", PlainRevokedResendLosesTheSession);
            yield return Case("account: a refresh refused with 401 token_revoked without account_deleted while unconfirmed (after a refresh_token_reused): nothing wiped, the session lost, the DELETE kept", ReusedThenRevokedIsNotErasure);
            yield return Case("account: a restart after the refresh token expired keeps the unconfirmed DELETE without a session; a login making a new player on its platform settles it as deleted (wiped), an existing other player leaves it pending", RestartAfterRefreshExpiryKeepsPending);
            yield return Case("account: a login answering the same player settles an unconfirmed DELETE as deletion_not_done, nothing wiped, nothing resent", LoginAsTheSamePlayerIsNotDone);
            yield return Case("account: after a restart with the DELETE's token and the session's both expired, the resend's 401 token_expired refreshes (not the expired current token) and sends again", BothTokensExpiredAfterRestart);
            yield return Case("account: a caller that joined the deletion's refused refresh gets not_logged_in, not the raw token_revoked", JoinedRefusedRefreshIsNotLoggedIn);
            yield return Case("account: a refresh refused before the DELETE went out (no silent login, or it fails): SessionLost has told the game by the time DeleteAccountAsync fails; nothing sent or wiped", RefusedRefreshBeforeTheDeleteTellsTheGameFirst);
            yield return Case("account: a login (same player) that ends the run waiting to resend has settled the DELETE (PendingDeletionSettled, deletion_not_done) by the time DeleteAccountAsync fails", LoginEndingTheRunHasSettledIt);
            yield return Case("account: a refresh refused with 401 token_revoked (account_deleted) while the waiting DELETE is resent: the wipe is done by the time DeleteAccountAsync completes", ConcurrentErasureIsWipedBeforeTheDeleteCompletes);
            yield return Case("account: RequestDataExportAsync returns the panel's JSON as it came", ExportReturnsTheBody);
        }

        static KeyValuePair<string, Func<Task>> Case(string name, Func<Task> run)
        {
            return new KeyValuePair<string, Func<Task>>(name, run);
        }

        static void Check(bool condition, string what)
        {
            if (!condition) throw new Exception("expected " + what);
        }

        sealed class Game
        {
            public FakeServer Server;
            public MemoryTokenStorage Storage;
            public string CacheDir;
            public GamingPanelClient Client;
            public string GameKey;
            public readonly List<TimeSpan> Waits = new List<TimeSpan>();
            // The panel's rule: anything but the exact confirmation (the query parameter, no body) is 400 confirmation_required.
            public Func<FakeRequest, FakeResponse> Delete = r => IsConfirmed(r) ? FakeResponse.Ok(204, "") : FakeResponse.Problem(400, "confirmation_required");
            /// <summary>POST auth/refresh; null: a new pair.</summary>
            public Func<FakeRequest, FakeResponse> Refresh;
            /// <summary>What SessionLost told the game.</summary>
            public readonly List<ApiError> Lost = new List<ApiError>();

            public string PlayerFolder { get { return Path.Combine(CacheDir, "7"); } }
        }

        /// <summary>A device with a session of player 7 (its access token valid an hour) and a panel that answers every read.</summary>
        static Game NewGame(int retries = 2)
        {
            var game = new Game
            {
                Server = new FakeServer(),
                Storage = new MemoryTokenStorage(),
                CacheDir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N")),
                GameKey = "account-test-" + Interlocked.Increment(ref _games), // its own PlayerPrefs slot for pending purchases
            };
            game.Storage.Save(new TokenSet
            {
                AccessToken = "access-0", RefreshToken = "refresh-0", PlayerId = "7", DisplayName = "Tess",
                AccessExpiresAtUtc = DateTime.UtcNow.AddHours(1), RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(20),
            });
            Connect(game, retries);
            return game;
        }

        /// <summary>
        /// The app restarts: a new client on what the device kept (the session as ITokenStorage saved it, read back from
        /// its JSON, or `savedSession` when given; the cache folder; PlayerPrefs), and the same panel.
        /// </summary>
        static Game Restart(Game old, int retries = 2, string savedSession = null)
        {
            var game = new Game
            {
                Server = old.Server, Storage = new MemoryTokenStorage(), CacheDir = old.CacheDir, GameKey = old.GameKey,
                Delete = old.Delete, Refresh = old.Refresh,
            };
            TokenSet kept = old.Storage.Load();
            if (savedSession == null && kept != null) savedSession = kept.ToJson();
            if (savedSession != null) game.Storage.Save(TokenSet.FromJson(savedSession));
            Connect(game, retries);
            return game;
        }

        /// <summary>The panel (answering every read) and the game's client on game's storage and cache.</summary>
        static void Connect(Game game, int retries)
        {
            game.Server.Handler = r =>
            {
                if (r.Method == "DELETE" && (r.Path == "player" || r.Path.StartsWith("player?"))) return game.Delete(r);
                if (r.Path == "auth/refresh" && game.Refresh != null) return game.Refresh(r);
                if (r.Path == "auth/refresh" || r.Path == "auth/third-party/login") return game.Server.TokenPair();
                if (r.Path == "player/stats") return FakeResponse.Ok(200, Stats);
                if (r.Path == "config")
                    return new FakeResponse { Status = 200, Body = "{\"version\":3,\"values\":{\"daily_bonus\":100}}", Headers = new Dictionary<string, string> { { "etag", "\"c3\"" } } };
                if (r.Path == "player/data-export") return FakeResponse.Ok(200, Export);
                if (r.Path == "shop/purchase") return FakeResponse.Problem(403, "forbidden"); // keeps the attempt's key
                if (r.Path.StartsWith("player/saves")) return FakeResponse.Offline();
                if (r.Path == "analytics/events") return FakeResponse.Offline();
                return FakeResponse.Problem(404, "not_found");
            };
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", game.GameKey);
            config.maxTransientRetries = retries;
            game.Client = new GamingPanelClient(config, game.Storage, game.Server, new LocalCache(game.CacheDir));
            game.Client.Auth.Delay = (wait, ct) => { lock (game.Waits) game.Waits.Add(wait); return Task.CompletedTask; };
            game.Client.Auth.SessionLost += error => { lock (game.Lost) game.Lost.Add(error); };
        }

        /// <summary>The ApiError `call` throws; null when it completes.</summary>
        static async Task<ApiError> Fails(Func<Task> call)
        {
            try { await call(); }
            catch (ApiError e) { return e; }
            return null;
        }

        static int Logins(Game game)
        {
            return game.Server.To("auth/third-party/login").Count;
        }

        /// <summary>
        /// Player 7 plays, with a credential provider that would log in again silently; the game asks for the deletion and
        /// the panel erases the account at the first DELETE, whose answer is lost (no answer). From then on the panel
        /// answers a DELETE with `resend` (401 token_revoked: the session is revoked) and refuses every refresh with 401
        /// token_revoked. DeleteAccountAsync (no automatic resend) fails with the lost answer, and nothing is wiped.
        /// </summary>
        static async Task<Game> ErasedWithTheAnswerLost(Func<FakeResponse> resend = null)
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            bool erased = false;
            game.Delete = r =>
            {
                if (erased) return resend != null ? resend() : ErasedAnswer();
                erased = true;
                return FakeResponse.Offline();
            };
            game.Refresh = r => erased ? ErasedAnswer() : game.Server.TokenPair();
            ApiError error = await Fails(() => game.Client.DeleteAccountAsync());
            Check(error != null && error.Code == ErrorCodes.NetworkError, "the DELETE's answer lost (setup)");
            Check(game.Storage.Load() != null && Directory.Exists(game.PlayerFolder) && Logins(game) == 0, "nothing wiped yet (setup)");
            return game;
        }

        /// <summary>The panel's answer to a token refused because the account was erased: 401 token_revoked with account_deleted.</summary>
        static FakeResponse ErasedAnswer()
        {
            return new FakeResponse
            {
                Status = 401,
                Body = "{\"type\":\"/docs/errors#token_revoked\",\"title\":\"t\",\"status\":401,\"detail\":\"d\",\"code\":\"token_revoked\",\"account_deleted\":true}",
            };
        }

        static bool IsConfirmed(FakeRequest r)
        {
            return r.Method == "DELETE" && r.Path == DeletePath && r.Body == null && r.Header("Content-Type") == null;
        }

        /// <summary>Every DELETE of player (whatever its query string) the game sent, in order.</summary>
        static List<FakeRequest> Deletes(Game game)
        {
            lock (game.Server.Requests) return game.Server.Requests.FindAll(r => r.Method == "DELETE");
        }

        /// <summary>Fills every store the kit keeps for player 7: cached reads, remote config, a queued cloud save, the analytics queue, a pending purchase.</summary>
        static async Task Play(Game game)
        {
            await game.Client.Player.GetStatsAsync();
            await game.Client.RemoteConfig.GetAsync();
            game.Client.CloudSaves.Save("slot1", new Dictionary<string, object> { { "chapter", 3 } });
            game.Client.Analytics.Track("level_complete", new Dictionary<string, object> { { "level", 3 } });
            game.Client.Analytics.SaveNow();
            try { await game.Client.Shop.PurchaseAsync("12"); } catch (ApiError) { }
            Check(File.Exists(Path.Combine(game.PlayerFolder, "player_stats.json")), "the stats cached (setup)");
            Check(File.Exists(Path.Combine(game.PlayerFolder, "remote_config.json")), "the config cached (setup)");
            Check(File.Exists(Path.Combine(game.PlayerFolder, "cloud_saves.json")), "the save queued on disk (setup)");
            Check(File.Exists(Path.Combine(game.PlayerFolder, "analytics_queue.json")), "the analytics queue on disk (setup)");
            Check(game.Client.Shop.HasPendingPurchases, "a pending purchase (setup)");
            // A copy set aside as unreadable earlier: the player's too.
            File.WriteAllText(Path.Combine(game.PlayerFolder, "cloud_saves.unreadable-20250101000000.json"), "{");
        }

        /// <summary>Every store the kit has for player 7, on disk and in memory, is empty; the next launch starts logged out.</summary>
        static void CheckWiped(Game game)
        {
            Check(game.Storage.Load() == null, "the stored session (refresh token) gone");
            Check(!game.Client.Auth.HasSession && game.Client.Auth.PlayerId == null, "logged out");
            Check(game.Client.Auth.CredentialProvider == null, "no silent re-login");
            Check(!Directory.Exists(game.PlayerFolder), "the player's cache folder gone (cached reads, config, save queue, analytics queue, copies set aside)");
            Check(!PlayerPrefs.HasKey("gamingpanel.pending_purchases." + game.GameKey) ||
                !PlayerPrefs.GetString("gamingpanel.pending_purchases." + game.GameKey).Contains("\"7\""), "the pending purchase keys gone");

            // The next launch: same storage and disk, a new client.
            var config = GamingPanelConfig.Create("http://panel.test/api/v1/", game.GameKey);
            var next = new GamingPanelClient(config, game.Storage, game.Server, new LocalCache(game.CacheDir));
            Check(!next.Auth.HasSession, "the next launch starts logged out");
            string body;
            DateTime at;
            foreach (string name in new[] { "player_stats", "remote_config", "cloud_saves", "analytics_queue" })
                Check(!next.Cache.TryLoad("7", name, out body, out at), "nothing of " + name + " on disk");

        }

        /// <summary>
        /// What the client holds in memory for player 7 is gone too: logged in as player 7 again (in a test only; a deleted
        /// player never comes back), every store is empty and nothing was written back.
        /// </summary>
        static async Task CheckNothingInMemory(Game game)
        {
            await game.Client.LoginAsync(new DevCredentialProvider("tess", "Tess"));
            Check(game.Client.Auth.PlayerId == "7", "player 7 again (setup)");
            Check(game.Client.CloudSaves.QueuedCount == 0, "no queued cloud-save write");
            string value;
            Check(!game.Client.CloudSaves.TryGet("slot1", out value), "no cloud-save copy");
            Check(game.Client.Analytics.Pending == 0, "no queued analytics event");
            Check(game.Client.RemoteConfig.LoadCached() == null, "no cached config");
            Check(!game.Client.Shop.HasPendingPurchases, "no pending purchase");
            await game.Client.LogoutAsync();
        }

        static async Task DeleteWipesEverything()
        {
            Game game = NewGame();
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            TokenSet changed = new TokenSet();
            game.Client.Auth.SessionChanged += tokens => changed = tokens;

            await game.Client.DeleteAccountAsync();

            List<FakeRequest> deletes = Deletes(game);
            Check(deletes.Count == 1 && deletes[0].Method == "DELETE", "one DELETE");
            Check(deletes[0].Path == "player?confirm=delete%20my%20account", "the path player?confirm=delete%20my%20account (the space as %20), got " + deletes[0].Path);
            Check(deletes[0].Body == null && deletes[0].Header("Content-Type") == null, "no body and no Content-Type");
            Check(deletes[0].Header("Authorization") == "Bearer access-0", "sent with the player's access token");
            Check(changed == null, "SessionChanged(null)");
            CheckWiped(game);

            // The erased player's queued save is never replayed, even by a sync that runs after the wipe.
            SyncReport sync = await game.Client.CloudSaves.SyncAsync();
            Check(game.Server.Requests.FindAll(r => r.Path.StartsWith("player/saves/")).Count == 0, "no queued write sent");
            Check(sync.NeedsLogin, "a sync after the deletion needs a login");
            Check(!Directory.Exists(game.PlayerFolder), "and nothing written back");
            await CheckNothingInMemory(game);
        }

        static async Task FailureWipesNothing()
        {
            foreach (FakeResponse answer in new[] { FakeResponse.Problem(500, "server_error"), FakeResponse.Offline(), FakeResponse.Problem(400, "confirmation_required") })
            {
                Game game = NewGame(retries: 1);
                await Play(game);
                game.Delete = r => answer;
                ApiError error = null;
                try { await game.Client.DeleteAccountAsync(); } catch (ApiError e) { error = e; }

                string expected = answer.Network ? ErrorCodes.NetworkError : answer.Status == 400 ? "confirmation_required" : "server_error";
                Check(error != null && error.Code == expected && error.Status == (answer.Network ? 0 : answer.Status), "the " + expected + " error given to the game unchanged");
                Check(Deletes(game).Count == (answer.Status == 400 ? 1 : 2), "sent once, and once more after a 5xx or no answer");
                Check(game.Storage.Load() != null && game.Storage.Load().RefreshToken == "refresh-0" && game.Client.Auth.HasSession, "the session kept");
                Check(game.Client.CloudSaves.QueuedCount == 1 && game.Client.Analytics.Pending == 1, "the save and the event still queued");
                Check(game.Client.RemoteConfig.LoadCached() != null, "the config copy kept");
                Check(File.Exists(Path.Combine(game.PlayerFolder, "player_stats.json")) &&
                    File.Exists(Path.Combine(game.PlayerFolder, "cloud_saves.unreadable-20250101000000.json")), "the cached files kept");
                Check(game.Client.Shop.HasPendingPurchases, "the pending purchase kept");
            }
        }

        static async Task UnauthorizedAfterALostAnswerIsDone()
        {
            Game game = NewGame();
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            bool deleted = false;
            game.Delete = r =>
            {
                if (deleted) return ErasedAnswer(); // every session revoked
                deleted = true;
                return FakeResponse.Offline(); // the panel deleted the account, the answer was lost
            };

            await game.Client.DeleteAccountAsync();

            List<FakeRequest> deletes = Deletes(game);
            Check(deletes.Count == 2 && deletes[1].Header("Authorization") == "Bearer access-0", "resent once with the same token");
            Check(IsConfirmed(deletes[0]) && IsConfirmed(deletes[1]), "the same request: the confirmation in the query string, no body");
            Check(game.Server.To("auth/refresh").Count == 0 && game.Server.To("auth/third-party/login").Count == 0, "no refresh and no login after it");
            CheckWiped(game);
        }

        static async Task NextCallResendsTheUnansweredDelete()
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            bool deleted = false;
            game.Delete = r =>
            {
                if (deleted) return ErasedAnswer();
                deleted = true;
                return FakeResponse.Problem(503, "service_unavailable");
            };
            ApiError error = null;
            try { await game.Client.DeleteAccountAsync(); } catch (ApiError e) { error = e; }
            Check(error != null && error.Status == 503, "the first call fails with the 503");
            Check(game.Storage.Load() != null && Directory.Exists(game.PlayerFolder), "nothing wiped yet");

            await game.Client.DeleteAccountAsync();
            Check(Deletes(game).Count == 2 && Deletes(game)[1].Header("Authorization") == "Bearer access-0" && IsConfirmed(Deletes(game)[1]), "resent with its token");
            Check(game.Server.To("auth/refresh").Count == 0, "no refresh");
            CheckWiped(game);
        }

        /// <summary>
        /// Player 7's DELETE went out with access-0 and got a 502 (it never reached the panel): the next
        /// DeleteAccountAsync resends it with access-0, which the panel refuses with `resend` (access-0 expired meanwhile).
        /// </summary>
        static async Task<Game> ResendRefused(string resend, Func<FakeRequest, FakeResponse> refresh)
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess"); // would log in again silently
            game.Refresh = refresh;
            bool first = true;
            game.Delete = r =>
            {
                if (first) { first = false; return FakeResponse.Problem(502, "bad_gateway"); }
                if (r.Header("Authorization") == "Bearer access-0") return FakeResponse.Problem(401, resend);
                return IsConfirmed(r) ? FakeResponse.Ok(204, "") : FakeResponse.Problem(400, "confirmation_required");
            };
            ApiError error = null;
            try { await game.Client.DeleteAccountAsync(); } catch (ApiError e) { error = e; }
            Check(error != null && error.Status == 502 && game.Storage.Load() != null, "the first call fails with the 502 (setup)");
            return game;
        }

        static async Task ExpiredResendRefreshesAndSendsAgain()
        {
            foreach (string resend in new[] { ErrorCodes.TokenExpired, ErrorCodes.InvalidToken })
            {
                Game game = await ResendRefused(resend, null);
                await game.Client.DeleteAccountAsync();
                List<FakeRequest> deletes = Deletes(game);
                Check(game.Server.To("auth/refresh").Count == 1, resend + ": one refresh");
                Check(game.Server.To("auth/third-party/login").Count == 0, resend + ": no login");
                Check(deletes.Count == 3 && deletes[1].Header("Authorization") == "Bearer access-0" &&
                    deletes[2].Header("Authorization") != "Bearer access-0" && IsConfirmed(deletes[2]),
                    resend + ": resent with its token, then sent again with the renewed one, got " + deletes.Count + " DELETEs");
                CheckWiped(game); // by the 204 to the DELETE with the renewed token
            }
        }

        static async Task ExpiredResendThenRevokedRefreshIsDone()
        {
            Game game = await ResendRefused(ErrorCodes.TokenExpired, r => ErasedAnswer());
            await game.Client.DeleteAccountAsync();
            Check(game.Server.To("auth/refresh").Count == 1, "one refresh");
            Check(game.Server.To("auth/third-party/login").Count == 0, "no silent re-login (it would create a new account)");
            Check(Deletes(game).Count == 2, "no DELETE after the refused refresh");
            CheckWiped(game);
        }

        static async Task ExpiredResendThenFailedRefreshWipesNothing()
        {
            var refreshes = new[] { FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused), FakeResponse.Problem(401, ErrorCodes.TokenExpired), FakeResponse.Offline() };
            foreach (FakeResponse refresh in refreshes)
            {
                Game game = await ResendRefused(ErrorCodes.TokenExpired, r => refresh);
                ApiError error = null;
                try { await game.Client.DeleteAccountAsync(); } catch (ApiError e) { error = e; }
                string expected = refresh.Network ? ErrorCodes.NetworkError : Json.GetString((Dictionary<string, object>)Json.Parse(refresh.Body), "code");
                Check(error != null && error.Code == expected, "the refresh's " + expected + " given to the game, got " + (error == null ? "none" : error.Code));
                Check(game.Server.To("auth/refresh").Count >= 1 && game.Server.To("auth/third-party/login").Count == 0, expected + ": refreshed, no login");
                Check(Deletes(game).Count == 2, expected + ": no DELETE after the failed refresh");
                Check(game.Storage.Load() != null && game.Storage.Load().RefreshToken == "refresh-0" && game.Client.Auth.HasSession, expected + ": the session kept");
                Check(game.Client.CloudSaves.QueuedCount == 1 && game.Client.Analytics.Pending == 1 && game.Client.Shop.HasPendingPurchases, expected + ": the queues kept");
                Check(File.Exists(Path.Combine(game.PlayerFolder, "player_stats.json")), expected + ": the cached files kept");
            }
        }

        static async Task ExpiredTokenIsRenewedFirst()
        {
            Game game = NewGame();
            await Play(game);
            game.Delete = r => r.Header("Authorization") == "Bearer access-0" ? FakeResponse.Problem(401, ErrorCodes.TokenExpired)
                : IsConfirmed(r) ? FakeResponse.Ok(204, "") : FakeResponse.Problem(400, "confirmation_required");
            await game.Client.DeleteAccountAsync();
            List<FakeRequest> deletes = Deletes(game);
            Check(game.Server.To("auth/refresh").Count == 1, "one refresh");
            Check(deletes.Count == 2 && deletes[1].Header("Authorization") != "Bearer access-0", "sent again with the renewed token");
            CheckWiped(game);
        }

        static async Task LostAnswerThenRevokedRefreshIsDone()
        {
            Game game = await ErasedWithTheAnswerLost();
            // The session's timer (GamingPanelBootstrap: RefreshIfDueAsync) refreshes before the game resends the DELETE.
            ApiError error = await Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
            Check(game.Server.To("auth/refresh").Count == 1, "one refresh");
            Check(Logins(game) == 0, "no silent re-login (it would create a new account), got " + Logins(game));
            Check(error != null && error.Status == 401 && error.Code == ErrorCodes.NotLoggedIn, "the refresh ends with not_logged_in, got " + (error == null ? "none" : error.Code));
            CheckWiped(game);
            Check(game.Lost.Count == 1 && game.Lost[0].Code == ErrorCodes.NotLoggedIn, "SessionLost tells the game (no DeleteAccountAsync waits)");
            Check(Deletes(game).Count == 1, "no DELETE after it");
        }

        static async Task LostAnswerThenAnotherCallsRefreshIsDone()
        {
            // The panel's DELETE endpoint keeps failing after the erasure, and a read with the revoked token gets 401 token_revoked.
            Game game = await ErasedWithTheAnswerLost(() => FakeResponse.Problem(503, "service_unavailable"));
            Func<FakeRequest, FakeResponse> panel = game.Server.Handler;
            game.Server.Handler = r => r.Path == "player/stats" ? ErasedAnswer() : panel(r);

            ApiError error = await Fails(() => game.Client.Player.GetStatsAsync());
            Check(Logins(game) == 0, "no silent re-login, got " + Logins(game));
            Check(game.Server.To("auth/refresh").Count == 1, "the call's refresh after its 401");
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "the call fails not_logged_in, got " + (error == null ? "none" : error.Code));
            List<FakeRequest> deletes = Deletes(game);
            Check(deletes.Count == 2 && deletes[1].Header("Authorization") == "Bearer access-0", "the call resent the DELETE first, with its token");
            CheckWiped(game);
            Check(game.Lost.Count == 1, "SessionLost tells the game");
        }

        static async Task RevokedRefreshFinishesTheWaitingDelete()
        {
            Game game = NewGame(retries: 2);
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            bool erased = false;
            game.Delete = r =>
            {
                if (erased) return ErasedAnswer();
                erased = true;
                return FakeResponse.Offline();
            };
            game.Refresh = r => erased ? ErasedAnswer() : game.Server.TokenPair();
            var waiting = new TaskCompletionSource<bool>();
            var resend = new TaskCompletionSource<bool>();
            game.Client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return resend.Task; };

            Task deleting = game.Client.DeleteAccountAsync();
            await waiting.Task; // its answer lost, the DELETE waits to be sent again
            ApiError refresh = await Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
            resend.SetResult(true);
            ApiError error = await Fails(() => deleting);

            Check(Logins(game) == 0, "no silent re-login, got " + Logins(game));
            Check(error == null, "DeleteAccountAsync completes (the account is gone), got " + (error == null ? "" : error.Code));
            Check(Deletes(game).Count == 1, "no DELETE after the confirmation, got " + Deletes(game).Count);
            Check(refresh != null && refresh.Code == ErrorCodes.NotLoggedIn, "the refresh ends with not_logged_in");
            CheckWiped(game);
            Check(game.Lost.Count == 0, "no SessionLost: DeleteAccountAsync told the game");
        }

        static async Task RestartKeepsTheUnconfirmedDelete()
        {
            Game before = await ErasedWithTheAnswerLost();
            Game game = Restart(before);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess"); // set by the game at start
            Check(game.Client.Auth.HasSession && game.Client.Auth.PlayerId == "7", "the session is back after the restart");

            ApiError error = await Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
            Check(Logins(game) == 0, "no silent re-login after the restart, got " + Logins(game));
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "the refresh ends with not_logged_in");
            CheckWiped(game);
            Check(game.Lost.Count == 1, "SessionLost tells the game");
        }

        static async Task RestartThenDeleteAccountResends()
        {
            Game before = await ErasedWithTheAnswerLost();
            Game game = Restart(before);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");

            await game.Client.DeleteAccountAsync();
            List<FakeRequest> deletes = Deletes(game);
            Check(deletes.Count == 2 && deletes[1].Header("Authorization") == "Bearer access-0" && IsConfirmed(deletes[1]), "resent with the token it went with");
            Check(game.Server.To("auth/refresh").Count == 0 && Logins(game) == 0, "no refresh and no login");
            CheckWiped(game);
            Check(game.Lost.Count == 0, "no SessionLost: DeleteAccountAsync told the game");
        }

        static async Task RestartThenNextCallFinishesTheDelete()
        {
            Game before = await ErasedWithTheAnswerLost();
            Game game = Restart(before);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            int reads = game.Server.To("player/stats").Count;

            ApiError error = await Fails(() => game.Client.Player.GetStatsAsync());
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "the call fails not_logged_in, got " + (error == null ? "none" : error.Code));
            List<FakeRequest> deletes = Deletes(game);
            Check(deletes.Count == 2 && deletes[1].Header("Authorization") == "Bearer access-0", "the DELETE resent first, with its token");
            Check(game.Server.To("player/stats").Count == reads, "the call itself not sent");
            Check(game.Server.To("auth/refresh").Count == 0 && Logins(game) == 0, "no refresh and no login");
            CheckWiped(game);
            Check(game.Lost.Count == 1, "SessionLost tells the game");
        }

        static async Task TransientResendKeepsTheDelete()
        {
            foreach (FakeResponse answer in new[] { FakeResponse.Problem(503, "service_unavailable"), FakeResponse.Offline() })
            {
                string what = answer.Network ? "no answer" : "503";
                bool flaky = true;
                Game before = await ErasedWithTheAnswerLost(() => flaky ? answer : ErasedAnswer());
                Game game = Restart(before, retries: 1);
                game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");

                ApiError error = await Fails(() => game.Client.DeleteAccountAsync());
                Check(error != null && error.Status == (answer.Network ? 0 : 503), what + ": DeleteAccountAsync fails with it");
                Check(Deletes(game).Count == 3, what + ": resent, and once more after it");
                Check(game.Storage.Load() != null && game.Storage.Load().RefreshToken == "refresh-0" && game.Client.Auth.HasSession, what + ": the session kept");
                Check(game.Client.CloudSaves.QueuedCount == 1 && game.Client.Analytics.Pending == 1 && game.Client.Shop.HasPendingPurchases &&
                    File.Exists(Path.Combine(game.PlayerFolder, "player_stats.json")), what + ": nothing wiped");

                // Any other refusal of a refresh meanwhile: nobody logs in again silently, the tokens stay.
                game.Refresh = r => FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused);
                ApiError refused = await Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
                Check(refused != null && refused.Code == ErrorCodes.RefreshTokenReused, what + ": the refusal as it came");
                Check(Logins(game) == 0, what + ": no silent re-login, got " + Logins(game));
                Check(game.Client.Auth.HasSession && game.Storage.Load() != null, what + ": the tokens kept");

                // Still on disk: the next launch's resend, with the token it went with, finishes it.
                flaky = false;
                Game next = Restart(game);
                await next.Client.DeleteAccountAsync();
                List<FakeRequest> deletes = Deletes(next);
                Check(deletes.Count == 4 && deletes[3].Header("Authorization") == "Bearer access-0", what + ": resent with its token after another restart");
                Check(Logins(next) == 0, what + ": no login");
                CheckWiped(next);
            }
        }

        static async Task StateSavedBeforeTheDeleteGoesOut()
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            string onDisk = null;
            bool erased = false;
            game.Delete = r =>
            {
                if (erased) return ErasedAnswer();
                onDisk = game.Storage.Load().ToJson(); // what is on disk while the DELETE is out: the app is killed now
                erased = true;
                return FakeResponse.Offline();
            };
            game.Refresh = r => erased ? ErasedAnswer() : game.Server.TokenPair();
            await Fails(() => game.Client.DeleteAccountAsync());

            Game next = Restart(game, savedSession: onDisk);
            next.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            ApiError error = await Fails(() => next.Client.Auth.RefreshAsync(CancellationToken.None));
            Check(Logins(next) == 0, "no silent re-login after the restart, got " + Logins(next));
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "the refresh ends with not_logged_in");
            CheckWiped(next);
        }

        static async Task RefusedDeleteIsForgotten()
        {
            foreach (FakeResponse answer in new[] { FakeResponse.Problem(403, "forbidden"), FakeResponse.Problem(400, "confirmation_required") })
            {
                Game game = NewGame(retries: 0);
                await Play(game);
                game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
                game.Delete = r => answer;
                ApiError error = await Fails(() => game.Client.DeleteAccountAsync());
                Check(error != null && error.Status == answer.Status, answer.Status + ": given to the game");

                game.Refresh = r => FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused);
                await game.Client.Auth.RefreshAsync(CancellationToken.None);
                Check(Logins(game) == 1 && game.Client.Auth.HasSession, answer.Status + ": nothing of the DELETE is kept: a refused refresh logs in again as always");
                Check(Directory.Exists(game.PlayerFolder), answer.Status + ": nothing wiped");
            }
        }

        static async Task LogoutForgetsTheUnconfirmedDelete()
        {
            Game game = NewGame(retries: 2);
            await Play(game);
            game.Delete = r => Deletes(game).Count == 1 ? FakeResponse.Offline() : FakeResponse.Problem(401, ErrorCodes.TokenRevoked);
            var waiting = new TaskCompletionSource<bool>();
            var resend = new TaskCompletionSource<bool>();
            game.Client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return resend.Task; };

            Task deleting = game.Client.DeleteAccountAsync();
            await waiting.Task;
            await game.Client.LogoutAsync(); // revokes the session: a 401 token_revoked now says nothing of the DELETE
            resend.SetResult(true);
            ApiError error = await Fails(() => deleting);

            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "DeleteAccountAsync ends with not_logged_in, got " + (error == null ? "none" : error.Code));
            Check(Deletes(game).Count == 1, "nothing resent after the logout");
            Check(!game.Client.Auth.HasSession && Directory.Exists(game.PlayerFolder), "logged out, the player's files kept (nothing confirmed)");
            Check(game.Client.Account.DeletionPending && game.Client.Account.DeletionPendingPlayerId == "7", "the DELETE still pending, without a session");
            TokenSet kept = game.Storage.Load();
            Check(kept != null && !kept.HasSessionTokens && kept.UnconfirmedDeletionPlayerId == "7", "only the pending DELETE on disk, no tokens");
            Game next = Restart(game);
            Check(!next.Client.Auth.HasSession && next.Client.Account.DeletionPending, "the next launch starts logged out, the DELETE still pending");
            next.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            ApiError call = await Fails(() => next.Client.Player.GetStatsAsync());
            Check(call != null && call.Code == ErrorCodes.NotLoggedIn && Logins(next) == 0, "no silent login while it is pending");
            Check(Deletes(next).Count == 1, "nothing resent after the restart");
        }

        static async Task DeletionPendingSaysSo()
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            Check(!game.Client.Account.DeletionPending, "none before");
            bool erased = false;
            bool pendingWhileOut = false;
            game.Delete = r =>
            {
                pendingWhileOut = game.Client.Account.DeletionPending;
                if (erased) return ErasedAnswer();
                erased = true;
                return FakeResponse.Offline();
            };
            await Fails(() => game.Client.DeleteAccountAsync());
            Check(pendingWhileOut && game.Client.Account.DeletionPending, "pending while the DELETE is out and after its answer was lost");
            Game next = Restart(game);
            Check(next.Client.Account.DeletionPending, "pending after a restart");
            await next.Client.DeleteAccountAsync();
            Check(!next.Client.Account.DeletionPending, "not once confirmed");

            Game refused = NewGame(retries: 0);
            refused.Delete = r => FakeResponse.Problem(403, "forbidden");
            await Fails(() => refused.Client.DeleteAccountAsync());
            Check(!refused.Client.Account.DeletionPending, "not after a DELETE refused as it came");
        }

        /// <summary>
        /// A panel where the first DELETE never arrives, auth/logout revokes the token it came with (a plain 401
        /// token_revoked from then on), and a DELETE with a live token erases the account.
        /// </summary>
        static Game PanelWithRevocation(out Func<bool> erased)
        {
            Game game = NewGame(retries: 2);
            var revoked = new HashSet<string>();
            bool accountErased = false;
            int deletes = 0;
            game.Delete = r =>
            {
                deletes++;
                if (deletes == 1) return FakeResponse.Offline(); // never reached the panel
                string token = r.Header("Authorization").Substring("Bearer ".Length);
                if (accountErased) return ErasedAnswer();
                lock (revoked) if (revoked.Contains(token)) return FakeResponse.Problem(401, ErrorCodes.TokenRevoked);
                accountErased = true;
                return FakeResponse.Ok(204, "");
            };
            Func<FakeRequest, FakeResponse> panel = game.Server.Handler;
            game.Server.Handler = r =>
            {
                if (r.Path == "auth/logout")
                {
                    lock (revoked) revoked.Add(r.Header("Authorization").Substring("Bearer ".Length));
                    return FakeResponse.Ok(204, "");
                }
                return panel(r);
            };
            erased = () => accountErased;
            return game;
        }

        /// <summary>What PendingDeletionSettled told the game: (player, error code or "deleted").</summary>
        static List<string> Settled(Game game)
        {
            var settled = new List<string>();
            game.Client.Account.PendingDeletionSettled += (player, error) =>
            {
                lock (settled) settled.Add(player + ":" + (error == null ? "deleted" : error.Code));
            };
            return settled;
        }

        static async Task LogoutThenLoginSamePlayerDuringResendWait()
        {
            Func<bool> erased;
            Game game = PanelWithRevocation(out erased);
            await Play(game);
            List<string> settled = Settled(game);
            var waiting = new TaskCompletionSource<bool>();
            var resend = new TaskCompletionSource<bool>();
            game.Client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return resend.Task; };

            Task deleting = game.Client.DeleteAccountAsync();
            await waiting.Task;                // the DELETE's answer was lost; the kit waits to resend it
            await game.Client.LogoutAsync();   // revokes access-0's session
            Check(game.Client.Account.DeletionPending, "the DELETE still pending after the logout");
            await game.Client.LoginAsync(new DevCredentialProvider("tess", "Tess")); // the same player 7: the account exists
            Check(game.Client.Auth.PlayerId == "7", "player 7 again (setup)");
            resend.SetResult(true);
            ApiError error = await Fails(() => deleting);

            Check(!erased(), "the panel never erased the account");
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "DeleteAccountAsync ends with not_logged_in, got " + (error == null ? "none" : error.Code));
            Check(Deletes(game).Count == 1, "no DELETE after the logout, got " + Deletes(game).Count);
            Check(game.Client.Auth.HasSession && Directory.Exists(game.PlayerFolder), "the new session and the player's files kept");
            Check(settled.Count == 1 && settled[0] == "7:" + ErrorCodes.DeletionNotDone, "the login says deletion_not_done, got " + string.Join(",", settled.ToArray()));
            Check(!game.Client.Account.DeletionPending, "nothing pending any more");
        }

        static async Task LoginSamePlayerDuringResendWait()
        {
            Func<bool> erased;
            Game game = PanelWithRevocation(out erased);
            await Play(game);
            List<string> settled = Settled(game);
            var waiting = new TaskCompletionSource<bool>();
            var resend = new TaskCompletionSource<bool>();
            game.Client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return resend.Task; };

            Task deleting = game.Client.DeleteAccountAsync();
            await waiting.Task;
            await game.Client.LoginAsync(new DevCredentialProvider("tess", "Tess")); // ends the session the DELETE was sent with
            resend.SetResult(true);
            ApiError error = await Fails(() => deleting);

            Check(Deletes(game).Count == 1, "no DELETE after the login, got " + Deletes(game).Count);
            Check(!erased() && Directory.Exists(game.PlayerFolder) && game.Client.Auth.HasSession, "nothing erased, nothing wiped");
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "DeleteAccountAsync ends with not_logged_in, got " + (error == null ? "none" : error.Code));
            Check(settled.Count == 1 && settled[0] == "7:" + ErrorCodes.DeletionNotDone, "deletion_not_done, got " + string.Join(",", settled.ToArray()));
            await game.Client.Player.GetStatsAsync();
            Check(Deletes(game).Count == 1, "the next call resends nothing");
        }

        static async Task PlainRevokedResendLosesTheSession()
        {
            Game game = await ErasedWithTheAnswerLost(() => FakeResponse.Problem(401, ErrorCodes.TokenRevoked)); // revoked by an operator, not erased
            ApiError error = await Fails(() => game.Client.DeleteAccountAsync());
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "DeleteAccountAsync ends with not_logged_in, got " + (error == null ? "none" : error.Code));
            Check(File.Exists(Path.Combine(game.PlayerFolder, "cloud_saves.json")) && File.Exists(Path.Combine(game.PlayerFolder, "player_stats.json")),
                "nothing wiped (the queued save kept)");
            Check(!game.Client.Auth.HasSession && Logins(game) == 0, "the session lost, no silent login");
            Check(game.Lost.Count == 1 && game.Lost[0].Code == ErrorCodes.NotLoggedIn, "SessionLost tells the game");
            Check(game.Client.Account.DeletionPending && game.Storage.Load() != null && game.Storage.Load().UnconfirmedDeletionPlayerId == "7",
                "the DELETE still pending, on disk");
        }

        static async Task ReusedThenRevokedIsNotErasure()
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            bool sessionRevoked = false; // the panel's reuse detection revokes the session (not an erasure)
            game.Delete = r => sessionRevoked ? FakeResponse.Problem(401, ErrorCodes.TokenRevoked) : FakeResponse.Offline(); // never arrives
            game.Refresh = r =>
            {
                if (sessionRevoked) return FakeResponse.Problem(401, ErrorCodes.TokenRevoked);
                sessionRevoked = true;
                return FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused);
            };
            await Fails(() => game.Client.DeleteAccountAsync());
            ApiError first = await Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
            Check(first != null && first.Code == ErrorCodes.RefreshTokenReused && game.Client.Auth.HasSession, "(setup) reused: session kept");
            game.Client.Auth.RefreshBackoff = TimeSpan.Zero; // a later refresh
            ApiError second = await Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
            Check(second != null && second.Code == ErrorCodes.NotLoggedIn, "the revoked refresh ends with not_logged_in, got " + (second == null ? "none" : second.Code));
            Check(File.Exists(Path.Combine(game.PlayerFolder, "cloud_saves.json")), "nothing wiped: the account was never erased");
            Check(!game.Client.Auth.HasSession && Logins(game) == 0 && game.Lost.Count == 1, "the session lost (SessionLost), no silent login");
            Check(game.Client.Account.DeletionPending, "the DELETE still pending");
        }

        /// <summary>Answers logins with `player` (created or not) from now on.</summary>
        static void LoginAnswers(Game game, string player, bool created)
        {
            Func<FakeRequest, FakeResponse> panel = game.Server.Handler;
            game.Server.Handler = r => r.Path != "auth/third-party/login" ? panel(r) : FakeResponse.Ok(200,
                "{\"access_token\":\"" + game.Server.NewToken("access-") + "\",\"refresh_token\":\"" + game.Server.NewToken("refresh-") +
                "\",\"expires_in\":7200,\"refresh_expires_in\":2592000,\"player\":{\"id\":" + player + ",\"display_name\":\"P\",\"created\":" +
                (created ? "true" : "false") + "}}");
        }

        static async Task<Game> PendingAfterRefreshExpiry()
        {
            Game game = NewGame(retries: 0);
            await game.Client.LoginAsync(new DevCredentialProvider("tess", "Tess")); // the session knows its platform
            await Play(game);
            game.Delete = r => FakeResponse.Offline();
            await Fails(() => game.Client.DeleteAccountAsync());
            Check(game.Client.Account.DeletionPending, "(setup) pending");
            // The player comes back 31 days later: the kept session's refresh token has expired.
            TokenSet saved = game.Storage.Load();
            saved.RefreshExpiresAtUtc = DateTime.UtcNow.AddDays(-1);
            saved.AccessExpiresAtUtc = DateTime.UtcNow.AddDays(-29);
            return Restart(game, savedSession: saved.ToJson());
        }

        static async Task RestartAfterRefreshExpiryKeepsPending()
        {
            Game next = await PendingAfterRefreshExpiry();
            Check(!next.Client.Auth.HasSession, "no session after the restart");
            Check(next.Client.Account.DeletionPending && next.Client.Account.DeletionPendingPlayerId == "7", "the unconfirmed DELETE still known");
            Check(Directory.Exists(next.PlayerFolder), "nothing wiped yet");
            List<string> settled = Settled(next);

            LoginAnswers(next, "8", false); // someone else's existing account: says nothing of the DELETE
            await next.Client.LoginAsync(new DevCredentialProvider("sam", "Sam"));
            Check(next.Client.Account.DeletionPending && settled.Count == 0 && Directory.Exists(next.PlayerFolder), "another existing player: still pending");
            await next.Client.LogoutAsync();

            LoginAnswers(next, "9", true); // the same platform account makes a new player: the old one was erased
            await next.Client.LoginAsync(new DevCredentialProvider("tess", "Tess"));
            Check(settled.Count == 1 && settled[0] == "7:deleted", "settled as deleted, got " + string.Join(",", settled.ToArray()));
            Check(!next.Client.Account.DeletionPending, "nothing pending any more");
            Check(!Directory.Exists(next.PlayerFolder) && !next.Client.Shop.HasPendingPurchases, "player 7's data wiped");
            Check(next.Client.Auth.PlayerId == "9" && next.Client.Auth.HasSession && next.Storage.Load().PlayerId == "9", "the new player's session kept");
            Check(Deletes(next).Count == 1, "nothing resent");
        }

        static async Task LoginAsTheSamePlayerIsNotDone()
        {
            Game next = await PendingAfterRefreshExpiry();
            List<string> settled = Settled(next);
            await next.Client.LoginAsync(new DevCredentialProvider("tess", "Tess")); // answers player 7
            Check(settled.Count == 1 && settled[0] == "7:" + ErrorCodes.DeletionNotDone, "deletion_not_done, got " + string.Join(",", settled.ToArray()));
            Check(!next.Client.Account.DeletionPending && Directory.Exists(next.PlayerFolder), "nothing pending, nothing wiped");
            await next.Client.Player.GetStatsAsync();
            Check(Deletes(next).Count == 1, "no DELETE sent on the kit's own after the login");
        }

        static async Task BothTokensExpiredAfterRestart()
        {
            Game game = NewGame(retries: 0);
            await Play(game);
            game.Delete = r => FakeResponse.Offline();
            await Fails(() => game.Client.DeleteAccountAsync());          // went out with access-0, answer lost
            await game.Client.Auth.RefreshAsync(CancellationToken.None);  // the player plays on: a refresh (the DELETE's token stays access-0)
            string stale = game.Storage.Load().AccessToken;
            TokenSet saved = game.Storage.Load();
            saved.AccessExpiresAtUtc = DateTime.UtcNow.AddHours(-20);     // the next day
            var expired = new HashSet<string> { "access-0", stale };
            game.Delete = r => expired.Contains(r.Header("Authorization").Substring(7)) ? FakeResponse.Problem(401, ErrorCodes.TokenExpired) : FakeResponse.Ok(204, "");
            Game next = Restart(game, savedSession: saved.ToJson());
            ApiError error = await Fails(() => next.Client.DeleteAccountAsync());
            Check(error == null, "the DELETE resent after a refresh, completed; got " + (error == null ? "" : error.Status + " " + error.Code));
            Check(next.Server.To("auth/refresh").Count == 2, "refreshed after the restart");
            CheckWiped(next);
        }

        static async Task JoinedRefusedRefreshIsNotLoggedIn()
        {
            Game game = await ResendRefused(ErrorCodes.TokenExpired, null);
            Task<TokenSet> joined = null;
            game.Refresh = r =>
            {
                // While the deletion's refresh is out, the session timer's refresh joins it.
                if (joined == null) joined = game.Client.Auth.RefreshAsync(CancellationToken.None);
                return ErasedAnswer();
            };
            ApiError deleting = await Fails(() => game.Client.DeleteAccountAsync());
            Check(deleting == null, "DeleteAccountAsync completes (the account is gone), got " + (deleting == null ? "" : deleting.Code));
            Check(joined != null && game.Server.To("auth/refresh").Count == 1, "one refresh, joined (setup)");
            ApiError error = await Fails(() => joined);
            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "the joined caller gets not_logged_in, got " + (error == null ? "none" : error.Code));
            CheckWiped(game);
        }

        static async Task RefusedRefreshBeforeTheDeleteTellsTheGameFirst()
        {
            foreach (bool provider in new[] { false, true })
            {
                string what = provider ? "the silent login refused" : "no credential provider";
                Game game = NewGame();
                await Play(game);
                game.Client.Auth.RefreshMargin = TimeSpan.FromHours(2); // the access token (1 h left) is due: DeleteAccountAsync refreshes first
                game.Refresh = r => FakeResponse.Problem(401, ErrorCodes.RefreshTokenReused);
                Func<FakeRequest, FakeResponse> panel = game.Server.Handler;
                game.Server.Handler = r => r.Path == "auth/third-party/login" ? FakeResponse.Problem(401, ErrorCodes.InvalidCredentials) : panel(r);
                if (provider) game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");

                ApiError error = await Fails(() => game.Client.DeleteAccountAsync());
                string told = provider ? ErrorCodes.InvalidCredentials : ErrorCodes.RefreshTokenReused;
                int lost;
                string first;
                lock (game.Lost) { lost = game.Lost.Count; first = lost > 0 ? game.Lost[0].Code : ""; }
                Check(error != null && error.Status == 401, what + ": DeleteAccountAsync fails with a 401, got " + (error == null ? "none" : error.Status + " " + error.Code));
                Check(lost == 1 && first == told, what + ": SessionLost (" + told + ") told the game before DeleteAccountAsync failed, got " + lost + " " + first);
                Check(Deletes(game).Count == 0 && !game.Client.Auth.HasSession && !game.Client.Account.DeletionPending, what + ": no DELETE sent, the session over, nothing pending");
                Check(File.Exists(Path.Combine(game.PlayerFolder, "player_stats.json")), what + ": nothing wiped");
            }
        }

        static async Task LoginEndingTheRunHasSettledIt()
        {
            Func<bool> erased;
            Game game = PanelWithRevocation(out erased);
            await Play(game);
            List<string> settled = Settled(game);
            var waiting = new TaskCompletionSource<bool>();
            var resend = new TaskCompletionSource<bool>();
            game.Client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return resend.Task; };

            Task deleting = game.Client.DeleteAccountAsync();
            await waiting.Task; // the DELETE's answer was lost; the kit waits to resend it
            Task<LoginResult> login = game.Client.LoginAsync(new DevCredentialProvider("tess", "Tess")); // the same player 7
            ApiError error = await Fails(() => deleting);
            string seen;
            lock (settled) seen = string.Join(",", settled.ToArray());
            bool pending = game.Client.Account.DeletionPending;
            await login;
            resend.SetResult(true); // the run's wait ends: its session is over, nothing goes out

            Check(error != null && error.Code == ErrorCodes.NotLoggedIn, "DeleteAccountAsync ends with not_logged_in, got " + (error == null ? "none" : error.Code));
            Check(seen == "7:" + ErrorCodes.DeletionNotDone && !pending,
                "the login's PendingDeletionSettled (deletion_not_done) came before DeleteAccountAsync failed, got '" + seen + "', pending " + pending);
            Check(Deletes(game).Count == 1 && !erased() && Directory.Exists(game.PlayerFolder), "nothing resent, nothing erased or wiped");
        }

        static async Task ConcurrentErasureIsWipedBeforeTheDeleteCompletes()
        {
            Game game = NewGame(retries: 2);
            await Play(game);
            game.Client.Auth.CredentialProvider = new DevCredentialProvider("tess", "Tess");
            bool erased = false;
            var resend = new TaskCompletionSource<bool>();
            var waiting = new TaskCompletionSource<bool>();
            game.Delete = r =>
            {
                if (erased) return ErasedAnswer();
                erased = true;
                return FakeResponse.Offline();
            };
            // The session timer's refresh reaches the panel just as the DELETE is resent: both answers say the account is gone.
            game.Refresh = r => { resend.TrySetResult(true); return ErasedAnswer(); };
            game.Client.Auth.Delay = (wait, ct) => { waiting.TrySetResult(true); return resend.Task; };

            Task deleting = game.Client.DeleteAccountAsync();
            await waiting.Task;
            Task<ApiError> refresh = Fails(() => game.Client.Auth.RefreshAsync(CancellationToken.None));
            ApiError error = await Fails(() => deleting);
            Check(error == null, "DeleteAccountAsync completes (the account is gone), got " + (error == null ? "" : error.Code));
            CheckWiped(game);
            await refresh;
            Check(Logins(game) == 0, "no silent re-login");
        }

        static async Task ExportReturnsTheBody()
        {
            Game game = NewGame();
            PlayerDataExport export = await game.Client.Account.RequestDataExportAsync();
            FakeRequest sent = game.Server.To("player/data-export")[0];
            Check(sent.Method == "GET" && sent.Header("Authorization") == "Bearer access-0", "GET player/data-export with the player's token");
            Check(export.Json == Export, "the JSON text as it came");
            Check(Json.GetObject(export.Data, "accounts") != null && export.ExportedAtUtc == new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), "parsed, with exported_at");
            Check(!File.Exists(Path.Combine(game.PlayerFolder, "player_data-export.json")) && !Directory.Exists(game.PlayerFolder), "not stored on the device");
            Check(game.Storage.Load() != null, "the session kept");
            try { if (Directory.Exists(TempRoot)) Directory.Delete(TempRoot, true); } catch (IOException) { } // the last case
        }
    }
}
#endif
