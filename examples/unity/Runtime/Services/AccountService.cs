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
        // A DELETE that went out without an answer: the next DeleteAccountAsync of that player resends it with the same
        // access token (the panel revoked it if the DELETE arrived), so a 401 token_revoked then means the account is gone.
        string _unconfirmedPlayer;
        string _unconfirmedToken;

        public AccountService(GamingPanelClient client)
        {
            _client = client;
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
        /// after that resend got 401 token_expired/invalid_token). Any other outcome throws its ApiError unchanged (a
        /// network error, 5xx or 429 after the automatic retries; 400 confirmation_required; a refresh that failed...)
        /// and wipes nothing: call it again (a DELETE already sent is then resent with its token).
        /// </summary>
        public async Task DeleteAccountAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            string player = _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player))
                throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "Log in as the player whose account is deleted.");

            string accessToken = null;
            bool sent = false; // a DELETE went out and may have arrived though no answer said so
            lock (_gate)
            {
                if (_unconfirmedPlayer == player)
                {
                    accessToken = _unconfirmedToken;
                    sent = true;
                }
            }
            // Before anything is sent the token may be renewed as for any call; once a DELETE went out, only after a 401
            // token_expired/invalid_token and never with the silent re-login (after an erasure it would create a new account).
            if (accessToken == null) accessToken = await _client.Auth.GetAccessTokenAsync(player, cancellationToken);

            bool renewed = false;
            bool renewedAfterSend = false;
            int attempt = 0;
            while (true)
            {
                ApiError failure;
                try
                {
                    var headers = new Dictionary<string, string> { { "Authorization", "Bearer " + accessToken } };
                    HttpResult response = await _client.Transport.SendAsync("DELETE", DeletePath, null, headers, cancellationToken);
                    if (response.Status == 204) break;
                    // A 2xx that is not the panel's 204 (a captive portal's page): not an answer, the DELETE may not have arrived.
                    failure = new ApiError(response.Status, ErrorCodes.InvalidResponse, "Invalid response",
                        "DELETE player answered " + response.Status + ", not the panel's 204.");
                }
                catch (ApiError error)
                {
                    failure = error;
                }

                if (sent && IsRevoked(failure)) break; // the DELETE that went out revoked this token: the account is gone
                if (sent && failure.Status == 401 && !renewedAfterSend &&
                    (failure.Code == ErrorCodes.TokenExpired || failure.Code == ErrorCodes.InvalidToken))
                {
                    // Expiry is checked before revocation: this says nothing of the DELETE. Ask the refresh, never
                    // logging in again (that would create a new account): a revoked session is the erasure.
                    renewedAfterSend = true;
                    try
                    {
                        accessToken = await _client.Auth.RenewWithoutReloginAsync(accessToken, player, cancellationToken);
                    }
                    catch (ApiError refresh)
                    {
                        if (IsRevoked(refresh)) break;
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
                    accessToken = await _client.Auth.RecoverFromUnauthorizedAsync(accessToken, player, cancellationToken);
                    continue;
                }
                if (!IsTransientForDelete(failure)) throw failure;
                if (MayHaveArrived(failure))
                {
                    sent = true;
                    lock (_gate)
                    {
                        _unconfirmedPlayer = player;
                        _unconfirmedToken = accessToken;
                    }
                }
                float delay = failure.RetryAfterSeconds.HasValue
                    ? failure.RetryAfterSeconds.Value
                    : (float)Math.Min(8.0, Math.Pow(2, attempt));
                if (attempt >= _client.Config.maxTransientRetries || delay > GamingPanelClient.MaxRetryAfterSeconds) throw failure;
                attempt++;
                await _client.Auth.Delay(TimeSpan.FromSeconds(delay), cancellationToken);
            }

            lock (_gate)
            {
                if (_unconfirmedPlayer == player)
                {
                    _unconfirmedPlayer = null;
                    _unconfirmedToken = null;
                }
            }
            Debug.Log("[GamingPanel] Account deleted; wiping the player's data on this device.");
            _client.WipePlayer(player);
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
