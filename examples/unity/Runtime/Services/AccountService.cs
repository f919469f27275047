// Gaming Panel Unity example: the player's own account: deleting it (the in-app deletion Apple requires) and
// exporting what the panel holds about the player.
//
// DELETE player?confirm=delete%20my%20account (no body: a DELETE body has no defined meaning in HTTP and proxies may
// drop it) answers 204 and revokes every session of the player. A token refused because the account was erased is
// answered 401 token_revoked with "account_deleted": true (ApiError.AccountErased): that, to the DELETE's resend (its
// answer lost), to a refresh or to any call, is the deletion confirmed; a 401 token_revoked without it is not (a
// logout, an operator, reuse detection). The panel checks expiry before revocation, so a resend after the token's
// lifetime gets 401 token_expired whether or not the first DELETE arrived: the session is then renewed with no silent
// re-login, and new tokens send the DELETE again. On success everything the kit keeps on the device for the player is
// wiped: the session (ITokenStorage), every cached read, the cloud-save state and its queued writes, the remote-config
// copy, the analytics queue, pending purchase keys, and the unreadable copies set aside in the player's folder; the
// next launch starts logged out. Nothing is wiped on any other outcome.
//
// Until the panel answers, the DELETE is unconfirmed: its player and token are saved before it is sent
// (TokenSet.UnconfirmedDeletionToken), and cleared only when the deletion is confirmed, every DELETE sent was refused
// as it came (nothing may have arrived), or the game's next login settles it. While it is kept, in this run or after a
// restart, nothing logs in again silently (after an erasure that would create a new account); the next authorised call
// of its player first resends the DELETE (one send, shared by the calls and any DeleteAccountAsync), and so does
// DeleteAccountAsync. A run belongs to the session it started on: a logout, a login, or the session refused with a
// plain 401 token_revoked ends it (not_logged_in, nothing wiped, nothing sent after it), and the DELETE stays pending,
// with no session if need be. The game's next LoginAsync settles it (PendingDeletionSettled): the same player means the
// account still exists (deletion_not_done: ask the player again; the kit never resends on its own after a login); a
// player the login created on the same platform means the old one was erased (their data is wiped).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    /// <summary>GET player/data-export: what the panel holds about the player, as its JSON.</summary>
    public sealed class PlayerDataExport
    {
        /// <summary>The answer's JSON text, as the panel sent it (an object: sections per app, plus "exported_at").</summary>
        public string Json;
        /// <summary>The same, parsed.</summary>
        public Dictionary<string, object> Data;
        public DateTime? ExportedAtUtc;
    }

    public sealed class AccountService
    {
        /// <summary>The text DELETE player must carry in its confirm query parameter; the kit sends it, the game passes none.</summary>
        public const string DeleteConfirmation = "delete my account";

        /// <summary>The DELETE's path: the confirmation percent-encoded (a space is %20, never +), and no body.</summary>
        public static readonly string DeletePath = "player?confirm=" + Uri.EscapeDataString(DeleteConfirmation);

        readonly GamingPanelClient _client;
        readonly object _gate = new object();
        // The deletion under way, per player: DeleteAccountAsync and the calls that resume an unconfirmed one share it,
        // so one DELETE of a player is out at a time.
        readonly Dictionary<string, Deletion> _running = new Dictionary<string, Deletion>();

        sealed class Deletion
        {
            public string Player;
            /// <summary>The session it runs for (TokenManager.Generation): no DELETE goes out with a later one.</summary>
            public int Generation;
            /// <summary>That session ended (logout, login, lost) before the panel confirmed it: nothing more is sent or decided.</summary>
            public volatile bool Ended;
            public readonly TaskCompletionSource<bool> Done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            /// <summary>The sends (never faults: its outcome is Done's, which callers joining at any time wait for).</summary>
            public Task Runner;
            /// <summary>DeleteAccountAsync calls waiting for it: they tell the game, so SessionLost does not fire.</summary>
            public int GameCallers;
            /// <summary>
            /// Confirmed (by its DELETE, or by a refresh refused with token_revoked), once: whoever set it wipes the player and
            /// then completes Done (Erased), maybe on another thread than the run's.
            /// </summary>
            public volatile bool Deleted;
            /// <summary>Done completed otherwise (RunAsync, EndRuns; under _gate): a confirmation after it tells the game by SessionLost.</summary>
            public bool Finished;
        }

        public AccountService(GamingPanelClient client)
        {
            _client = client;
            _client.Auth.AccountErased = player => Erased(player, Running(player));
            _client.Auth.SessionEnding = EndRuns;
            _client.Auth.DeletionSettledAtLogin = SettledAtLogin;
        }

        /// <summary>
        /// A DELETE went out (in this run or before a restart) and the panel has not confirmed it, whether or not its
        /// player is still logged in: nothing logs in again silently; while its player is logged in the next authorised
        /// call resends it first, and so does DeleteAccountAsync; otherwise the game's next LoginAsync settles it.
        /// </summary>
        public bool DeletionPending
        {
            get { return _client.Auth.PendingDeletionPlayerId != null; }
        }

        /// <summary>The player whose DELETE is unconfirmed (DeletionPending), or null.</summary>
        public string DeletionPendingPlayerId
        {
            get { return _client.Auth.PendingDeletionPlayerId; }
        }

        /// <summary>
        /// A login settled a DELETE left unconfirmed by an earlier session (player id, error): error null when the
        /// account was erased (the login made a new player; the old player's data on the device is wiped now);
        /// 409 deletion_not_done when the login answered the same player: the account still exists and nothing was
        /// deleted; ask the player again (the kit never resends it on its own).
        /// </summary>
        public event Action<string, ApiError> PendingDeletionSettled;

        /// <summary>
        /// GET player/data-export (retried like any read). Not cached: the export stays out of the device's files.
        /// Throws ApiError as any call does (invalid_response when the answer is not a JSON object).
        /// </summary>
        public async Task<PlayerDataExport> RequestDataExportAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            string player = _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player)) throw ApiError.PlayerChanged();
            HttpResult response = await _client.SendAuthorizedAsync("GET", "player/data-export", null, null, true, player, cancellationToken);
            Dictionary<string, object> data = response.JsonObject;
            return new PlayerDataExport { Json = response.Body, Data = data, ExportedAtUtc = Json.GetDateTime(data, "exported_at") };
        }

        /// <summary>
        /// Deletes the logged-in player's account on the panel, then everything the kit keeps for the player on the
        /// device; the player is logged out (SessionChanged(null)) and not logged back in silently. Completes once the
        /// panel answered 204, or 401 token_revoked with account_deleted (to a resend after a DELETE whose answer was
        /// lost, to the refresh after that resend got 401 token_expired/invalid_token, or to any call's refresh
        /// meanwhile). A logout, a login or the session revoked otherwise (401 token_revoked without account_deleted)
        /// ends it with not_logged_in: nothing wiped, the DELETE pending until the next login settles it. Any other
        /// outcome throws its ApiError unchanged (a network error, 5xx or 429 after the automatic retries; 400
        /// confirmation_required; a refresh that failed...) and wipes nothing: call it again (a DELETE already sent is then
        /// resent with its token, also after a restart). Cancelling stops this wait only: a DELETE that went out is not
        /// cancellable, and the kit finishes it.
        /// </summary>
        public async Task DeleteAccountAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            string player = _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player))
                throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "Log in as the player whose account is deleted.");
            Deletion deletion = Join(player, _client.Config.maxTransientRetries, true);
            try
            {
                await TokenManager.WaitAsync(deletion.Done.Task, cancellationToken);
            }
            finally
            {
                lock (_gate) deletion.GameCallers--;
            }
        }

        /// <summary>
        /// Before an authorised call of `player` while a DELETE of theirs is unconfirmed: resends it (once, or joins the
        /// deletion under way). Throws not_logged_in (ApiError.AccountDeleted) once the deletion is confirmed (the player
        /// is wiped); returns when it is not, the DELETE still unconfirmed, for the call to go on.
        /// </summary>
        internal async Task ResumeUnconfirmedAsync(string player, CancellationToken cancellationToken)
        {
            Deletion deletion = Join(player, 0, false);
            try
            {
                await TokenManager.WaitAsync(deletion.Done.Task, cancellationToken);
            }
            catch (ApiError error)
            {
                Debug.Log("[GamingPanel] The account's deletion is still unconfirmed (" + error.Code + "); the call goes on.");
                return;
            }
            throw ApiError.AccountDeleted();
        }

        /// <summary>The deletion of `player` under way, joined; or a new one, started (maxRetries automatic resends).</summary>
        Deletion Join(string player, int maxRetries, bool byGame)
        {
            Deletion deletion;
            bool start = false;
            int generation = _client.Auth.Generation;
            lock (_gate)
            {
                if (!_running.TryGetValue(player, out deletion))
                {
                    deletion = new Deletion { Player = player, Generation = generation };
                    _running[player] = deletion;
                    start = true;
                }
                if (byGame) deletion.GameCallers++;
            }
            if (start) deletion.Runner = RunAsync(deletion, maxRetries);
            return deletion;
        }

        Deletion Running(string player)
        {
            Deletion deletion;
            lock (_gate) return _running.TryGetValue(player, out deletion) ? deletion : null;
        }

        async Task RunAsync(Deletion deletion, int maxRetries)
        {
            Exception failure = null;
            try
            {
                await DeleteCoreAsync(deletion, maxRetries);
            }
            catch (Exception e)
            {
                failure = e;
            }
            bool confirmed;
            lock (_gate)
            {
                Deletion current;
                if (_running.TryGetValue(deletion.Player, out current) && current == deletion) _running.Remove(deletion.Player);
                confirmed = deletion.Deleted;
                if (!confirmed) deletion.Finished = true;
            }
            // Confirmed: Erased completes Done once the player is wiped, which may still be under way on the thread of the
            // refresh that confirmed it (the run only saw Deleted).
            if (confirmed) return;
            if (failure == null) deletion.Done.TrySetResult(true);
            else deletion.Done.TrySetException(failure);
        }

        /// <summary>Sends the DELETE (or resends an unconfirmed one) until the panel confirms it or an outcome says to stop.</summary>
        async Task DeleteCoreAsync(Deletion deletion, int maxRetries)
        {
            string player = deletion.Player;
            // A DELETE that went out unanswered is resent with its own token. Before anything is sent the token may be
            // renewed as for any call; once a DELETE went out, only after a 401 token_expired/invalid_token and never with
            // the silent re-login (after an erasure it would create a new account).
            string accessToken = _client.Auth.UnconfirmedDeletionToken(player);
            bool sent = accessToken != null; // a DELETE went out and may have arrived though no answer said so
            if (accessToken == null) accessToken = await _client.Auth.GetAccessTokenAsync(player, CancellationToken.None);

            bool renewed = false;
            bool renewedAfterSend = false;
            int attempt = 0;
            while (true)
            {
                if (deletion.Deleted) return; // a refresh confirmed it meanwhile
                if (deletion.Ended) throw ApiError.PlayerChanged();
                _client.Auth.MarkDeletionSent(player, accessToken, deletion.Generation); // saved before it goes: a restart still knows
                ApiError failure;
                try
                {
                    var headers = new Dictionary<string, string> { { "Authorization", "Bearer " + accessToken } };
                    HttpResult response = await _client.Transport.SendAsync("DELETE", DeletePath, null, headers, CancellationToken.None);
                    if (response.Status == 204) break;
                    // A 2xx that is not the panel's 204 (a captive portal's page): not an answer, the DELETE may not have arrived.
                    failure = new ApiError(response.Status, ErrorCodes.InvalidResponse, "Invalid response",
                        "DELETE player answered " + response.Status + ", not the panel's 204.");
                }
                catch (ApiError error)
                {
                    failure = error;
                }
                if (deletion.Deleted) return;
                // Logged out or in meanwhile: the answer belongs to a session that is over.
                if (deletion.Ended || _client.Auth.PlayerId != player) throw ApiError.PlayerChanged();

                if (failure.AccountErased) break; // the panel says the account was erased
                if (sent && IsRevoked(failure))
                {
                    // Revoked otherwise (a logout elsewhere, an operator): the session is over, the DELETE stays pending.
                    ApiError lost = ApiError.SessionLostWithDeletionPending();
                    _client.Auth.LoseSessionKeepingDeletion(player, lost);
                    throw lost;
                }
                if (sent && failure.Status == 401 && !renewedAfterSend &&
                    (failure.Code == ErrorCodes.TokenExpired || failure.Code == ErrorCodes.InvalidToken))
                {
                    // Expiry is checked before revocation: this says nothing of the DELETE. Ask the refresh, never
                    // logging in again (that would create a new account): a revoked session is the erasure.
                    renewedAfterSend = true;
                    try
                    {
                        accessToken = await _client.Auth.RenewWithoutReloginAsync(accessToken, player, CancellationToken.None);
                    }
                    catch (ApiError)
                    {
                        if (deletion.Deleted) return; // the refresh was refused as the account was erased: wiped
                        throw; // the session could not be renewed (or was lost): nothing wiped, the DELETE stays pending
                    }
                    continue; // the account is still there: send the DELETE with the renewed token
                }
                bool tokenProblem = failure.Status == 401 && (failure.Code == ErrorCodes.TokenExpired ||
                    failure.Code == ErrorCodes.TokenRevoked || failure.Code == ErrorCodes.InvalidToken);
                if (tokenProblem && !renewed && !sent)
                {
                    // Refused before anything was deleted: renew the session (same player only) and send once more.
                    renewed = true;
                    _client.Auth.ClearDeletionMark(player);
                    accessToken = await _client.Auth.RecoverFromUnauthorizedAsync(accessToken, player, CancellationToken.None);
                    continue;
                }
                if (MayHaveArrived(failure)) sent = true;
                if (!IsTransientForDelete(failure)) throw Unsent(player, sent, failure);
                float delay = failure.RetryAfterSeconds.HasValue
                    ? failure.RetryAfterSeconds.Value
                    : (float)Math.Min(8.0, Math.Pow(2, attempt));
                if (attempt >= maxRetries || delay > GamingPanelClient.MaxRetryAfterSeconds) throw Unsent(player, sent, failure);
                attempt++;
                await _client.Auth.Delay(TimeSpan.FromSeconds(delay), CancellationToken.None);
            }
            Erased(player, deletion);
        }

        /// <summary>`failure` ends this try: a DELETE that may have arrived stays unconfirmed (kept); else it is forgotten.</summary>
        ApiError Unsent(string player, bool sent, ApiError failure)
        {
            if (!sent) _client.Auth.ClearDeletionMark(player);
            return failure;
        }

        /// <summary>
        /// The panel confirmed the deletion of `player` (`deletion`: the one under way, if any): wipes everything kept for
        /// them, once, tells the game by SessionLost when no DeleteAccountAsync is waiting to, and only then completes the
        /// deletion's Done, so a DeleteAccountAsync resumes with the player wiped.
        /// </summary>
        void Erased(string player, Deletion deletion)
        {
            bool tell = true;
            lock (_gate)
            {
                if (deletion != null && deletion.Finished) deletion = null; // its callers have their outcome: told as when none runs
                if (deletion != null)
                {
                    if (deletion.Deleted) return;
                    deletion.Deleted = true;
                    tell = deletion.GameCallers == 0;
                }
            }
            Debug.Log("[GamingPanel] Account deleted; wiping the player's data on this device.");
            try
            {
                _client.WipePlayer(player);
                if (tell) _client.Auth.RaiseSessionLost(ApiError.AccountDeleted());
            }
            catch (Exception e)
            {
                if (deletion != null) deletion.Done.TrySetException(e);
                throw;
            }
            if (deletion != null) deletion.Done.TrySetResult(true);
        }

        /// <summary>
        /// The session of `player` ended (logout, a login, lost): its deletion run ends with not_logged_in, sends nothing
        /// more and decides nothing (a 401 token_revoked may now be the logout's); the DELETE stays pending.
        /// </summary>
        void EndRuns(string player)
        {
            Deletion deletion;
            lock (_gate)
            {
                if (!_running.TryGetValue(player, out deletion) || deletion.Deleted) return;
                deletion.Ended = true;
                deletion.Finished = true;
                _running.Remove(player);
            }
            deletion.Done.TrySetException(new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in",
                "The session the account's deletion was sent with ended before the panel confirmed it; the next login settles it."));
        }

        /// <summary>A login settled the unconfirmed DELETE of `player` (TokenManager): wipes them when it was erased, tells the game.</summary>
        void SettledAtLogin(string player, bool deleted)
        {
            if (deleted)
            {
                Debug.Log("[GamingPanel] The account whose deletion was unconfirmed is gone; wiping that player's data on this device.");
                _client.WipePlayer(player);
            }
            Action<string, ApiError> settled = PendingDeletionSettled;
            if (settled != null) settled(player, deleted ? null : ApiError.DeletionNotDone());
        }

        /// <summary>401 token_revoked (with or without account_deleted).</summary>
        static bool IsRevoked(ApiError error)
        {
            return error.Status == 401 && error.Code == ErrorCodes.TokenRevoked;
        }

        /// <summary>No answer, 408, 429, 5xx, or a 2xx that is not the panel's 204: the same DELETE may still succeed.</summary>
        static bool IsTransientForDelete(ApiError error)
        {
            return error.IsTransient || MayHaveArrived(error);
        }

        /// <summary>The DELETE may have reached the panel without its answer reaching us (a 429 comes before it is looked at).</summary>
        static bool MayHaveArrived(ApiError error)
        {
            return error.Status == 0 || error.Status == 408 || error.Status >= 500 || (error.Status >= 200 && error.Status < 300);
        }
    }
}
