// Gaming Panel Unity example: the player's own account: deleting it (the in-app deletion Apple requires) and
// exporting what the panel holds about the player.
//
// DELETE player?confirm=delete%20my%20account (no body: a DELETE body has no defined meaning in HTTP and proxies may
// drop it) answers 204 and revokes every session of the player. When that answer is lost, the DELETE is sent again
// with the same access token, and the panel answers the revoked token 401 token_revoked: after a DELETE went out, that
// 401 (and only that one) means the account is gone. The panel checks expiry before revocation, so a resend after the
// token's lifetime gets 401 token_expired whether or not the first DELETE arrived: the session is then renewed with no
// silent re-login. A refresh refused with 401 token_revoked is the erasure (done); new tokens mean the account is still
// there (the DELETE is sent again with them); any other failure reaches the game. On success everything the kit
// keeps on the device for the player is wiped: the session (ITokenStorage), every cached read, the cloud-save state
// and its queued writes, the remote-config copy, the analytics queue, pending purchase keys, and the unreadable
// copies set aside in the player's folder; the next launch starts logged out. Nothing is wiped on any other outcome.
//
// Until the panel answers, the DELETE is unconfirmed: the token it goes with is kept with the session and saved
// before it is sent (TokenSet.UnconfirmedDeletionToken), and cleared only when the deletion is confirmed or every
// DELETE sent was refused as it came (nothing may have arrived). While it is kept, in this run or after a restart,
// nothing logs in again silently (after an erasure that would create a new account): a refresh refused with 401
// token_revoked, for any call, counts as the deletion confirmed (TokenManager rule 4); the next authorised call first
// resends the DELETE (one send, shared by the calls and any DeleteAccountAsync), and so does DeleteAccountAsync. A
// deletion that went out cannot be cancelled by the kit; LoginAsync and LogoutAsync end the session it is kept with.
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
            public readonly TaskCompletionSource<bool> Done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            /// <summary>The sends (never faults: its outcome is Done's, which callers joining at any time wait for).</summary>
            public Task Runner;
            /// <summary>DeleteAccountAsync calls waiting for it: they tell the game, so SessionLost does not fire.</summary>
            public int GameCallers;
            /// <summary>Confirmed (by its DELETE, or by a refresh refused with token_revoked) and wiped, once.</summary>
            public volatile bool Deleted;
        }

        public AccountService(GamingPanelClient client)
        {
            _client = client;
            _client.Auth.UnconfirmedDeletionRevoked = player => Erased(player, Running(player));
        }

        /// <summary>
        /// A DELETE of the logged-in player went out (in this run or before a restart) and the panel has not confirmed it:
        /// nothing logs in again silently, the next authorised call resends it first, and so does DeleteAccountAsync.
        /// </summary>
        public bool DeletionPending
        {
            get { return _client.Auth.UnconfirmedDeletionToken(_client.Auth.PlayerId) != null; }
        }

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
        /// panel answered 204, or 401 token_revoked to a resend after a DELETE whose answer was lost (or to the refresh
        /// after that resend got 401 token_expired/invalid_token, or to any call's refresh meanwhile). Any other outcome
        /// throws its ApiError unchanged (a network error, 5xx or 429 after the automatic retries; 400
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
            lock (_gate)
            {
                if (!_running.TryGetValue(player, out deletion))
                {
                    deletion = new Deletion { Player = player };
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
            lock (_gate)
            {
                Deletion current;
                if (_running.TryGetValue(deletion.Player, out current) && current == deletion) _running.Remove(deletion.Player);
            }
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
                if (deletion.Deleted) return; // a refresh refused with token_revoked confirmed it meanwhile
                _client.Auth.MarkDeletionSent(player, accessToken); // saved before it goes: a restart still knows
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
                // Logged out (or another player in) meanwhile: a 401 token_revoked may now be that logout's, not the erasure's.
                if (_client.Auth.PlayerId != player) throw ApiError.PlayerChanged();

                if (sent && IsRevoked(failure)) break; // the DELETE that went out revoked this token: the account is gone
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
                    catch (ApiError refresh)
                    {
                        if (IsRevoked(refresh)) break;
                        if (deletion.Deleted) return;
                        throw; // the session could not be renewed: nothing is known, nothing is wiped
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
        /// them, once, and tells the game by SessionLost when no DeleteAccountAsync is waiting to.
        /// </summary>
        void Erased(string player, Deletion deletion)
        {
            bool tell = true;
            lock (_gate)
            {
                if (deletion != null)
                {
                    if (deletion.Deleted) return;
                    deletion.Deleted = true;
                    tell = deletion.GameCallers == 0;
                }
            }
            Debug.Log("[GamingPanel] Account deleted; wiping the player's data on this device.");
            _client.WipePlayer(player);
            if (tell) _client.Auth.RaiseSessionLost(ApiError.AccountDeleted());
        }

        /// <summary>401 token_revoked: the session was revoked, as the erasure revokes every session of the player.</summary>
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
