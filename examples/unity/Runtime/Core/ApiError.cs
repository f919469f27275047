// Gaming Panel Unity example: the one exception type every call throws.
//
// The server answers every error as application/problem+json (RFC 9457):
//   {"type": "/docs/errors#insufficient_funds", "title": "Insufficient funds", "status": 409,
//    "detail": "Needs 500 gold, has 120.", "code": "insufficient_funds"}
// Branch on Code (a stable machine string), show Detail to players only after mapping it to your own
// localised text. When the request never got an answer (no network, DNS, TLS, timeout) Status is 0 and
// Code is "network_error": nothing changed on the server as far as the client can know, so tokens and
// caches are kept and the call can be retried later.
using System;
using System.Collections.Generic;

namespace GamingPanel
{
    public static class ErrorCodes
    {
        // Sent by the server.
        public const string InvalidCredentials = "invalid_credentials";
        public const string TokenExpired = "token_expired";
        public const string TokenRevoked = "token_revoked";
        public const string InvalidToken = "invalid_token";
        public const string RefreshTokenReused = "refresh_token_reused";
        public const string PlayerBanned = "player_banned";
        public const string InsufficientFunds = "insufficient_funds";
        public const string AlreadyClaimed = "already_claimed";
        public const string RateLimited = "rate_limited";
        public const string RequestInProgress = "request_in_progress";
        public const string PaymentProviderUnavailable = "payment_provider_unavailable";
        public const string PlatformUnavailable = "platform_unavailable";
        public const string PlatformNotConfigured = "platform_not_configured";
        public const string ValidationError = "validation_error";
        public const string IdempotencyKeyReused = "idempotency_key_reused";
        public const string ReceiptAccountMismatch = "receipt_account_mismatch";
        public const string PermissionMissing = "permission_missing";
        public const string WrongCredentialKind = "wrong_credential_kind";
        /// <summary>Cloud save: no such document (a delete's 404 that means the key is gone).</summary>
        public const string SaveNotFound = "save_not_found";
        /// <summary>Cloud save: a 403 about the write itself (a key only game servers write): the write is refused.</summary>
        public const string SaveKeyNotWritable = "save_key_not_writable";

        // Made up on the client for failures that have no server answer.
        public const string NetworkError = "network_error";
        public const string InvalidResponse = "invalid_response";
        public const string NotLoggedIn = "not_logged_in";
        public const string CredentialsUnavailable = "credentials_unavailable";
        /// <summary>A DELETE of the account was left unconfirmed, and the next login answered the same player: the account still exists.</summary>
        public const string DeletionNotDone = "deletion_not_done";
    }

    public class ApiError : Exception
    {
        /// <summary>HTTP status, or 0 when no response arrived.</summary>
        public int Status { get; private set; }

        /// <summary>Stable machine code, e.g. "insufficient_funds". Never null.</summary>
        public string Code { get; private set; }

        public string Title { get; private set; }
        public string Detail { get; private set; }
        public string Type { get; private set; }

        /// <summary>Seconds to wait before retrying (from Retry-After on 429 and 503), or null.</summary>
        public float? RetryAfterSeconds { get; private set; }

        /// <summary>The whole problem document, including extension members such as "errors" for validation_error.</summary>
        public Dictionary<string, object> Problem { get; private set; }

        public ApiError(int status, string code, string title, string detail, string type = null,
            float? retryAfterSeconds = null, Dictionary<string, object> problem = null)
            : base(string.IsNullOrEmpty(detail) ? (title ?? code) : detail)
        {
            Status = status;
            Code = string.IsNullOrEmpty(code) ? FallbackCode(status) : code;
            Title = title ?? "";
            Detail = detail ?? "";
            Type = type ?? "";
            RetryAfterSeconds = retryAfterSeconds;
            Problem = problem ?? new Dictionary<string, object>();
        }

        /// <summary>No answer from the server: offline, DNS, TLS or timeout.</summary>
        public bool IsNetworkError { get { return Status == 0; } }

        /// <summary>
        /// Worth trying again later with the very same request (and the same Idempotency-Key): no answer,
        /// 429, a 5xx, or 409 request_in_progress (the first request with this key is still being processed,
        /// e.g. a real-money checkout being opened). Any other 4xx will fail again until something changes.
        /// One exception: a purchase's 503 payment_provider_unavailable is worth trying again only as a new attempt
        /// with a new key (EndsPurchaseAttempt).
        /// </summary>
        public bool IsTransient
        {
            get
            {
                return Status == 0 || Status == 429 || Status >= 500
                    || (Status == 409 && Code == ErrorCodes.RequestInProgress);
            }
        }

        /// <summary>
        /// The server refused the session itself: 401 invalid_token, token_expired, token_revoked,
        /// refresh_token_reused, or 403 player_banned, each from the panel's problem document. Only these end a
        /// session when a refresh fails; anything else (no answer, 429, 5xx, a proxy's HTML 403/404, a 408) keeps it.
        /// </summary>
        public bool EndsSession
        {
            get
            {
                if (Status == 401)
                    return Code == ErrorCodes.InvalidToken || Code == ErrorCodes.TokenExpired ||
                        Code == ErrorCodes.TokenRevoked || Code == ErrorCodes.RefreshTokenReused;
                return Status == 403 && Code == ErrorCodes.PlayerBanned;
            }
        }

        /// <summary>
        /// A purchase attempt (its Idempotency-Key) is over: a refusal about the purchase itself (a 4xx other than
        /// 401/403 and the transient 429 and 409 request_in_progress), or 503 payment_provider_unavailable. That one
        /// is transient for the player but final for the key: nothing was charged, the purchase ended, and the server
        /// answers the same key with this 503 for ever, so "try again" is a new attempt with a new key.
        /// </summary>
        public bool EndsPurchaseAttempt
        {
            get
            {
                if (Status == 503 && Code == ErrorCodes.PaymentProviderUnavailable) return true;
                return Status >= 400 && Status < 500 && Status != 401 && Status != 403 && !IsTransient;
            }
        }

        /// <summary>
        /// The panel's own problem document: a JSON object with a `code`. A proxy's or captive portal's page, a body
        /// that is not JSON or has no code, and the errors made on the client (no answer, not_logged_in,
        /// invalid_response) are not: they say nothing about the request itself.
        /// </summary>
        public bool IsProblemDocument { get { return !string.IsNullOrEmpty(Json.GetString(Problem, "code")); } }

        /// <summary>
        /// 401 token_revoked with "account_deleted": true: the panel refused the token because the account was erased.
        /// Every other token_revoked (a logout, an operator, reuse detection, an unlinked identity) has no such member.
        /// </summary>
        public bool AccountErased
        {
            get { return Status == 401 && Code == ErrorCodes.TokenRevoked && Problem != null && Json.GetBool(Problem, "account_deleted"); }
        }

        public static ApiError Network(string message)
        {
            return new ApiError(0, ErrorCodes.NetworkError, "Network error", message);
        }

        /// <summary>
        /// 401 not_logged_in for a call that belongs to one player's session when another player (or nobody) is
        /// logged in now: it is not sent with the other player's token, and its answer is not kept for them.
        /// </summary>
        public static ApiError PlayerChanged()
        {
            return new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in",
                "Another player logged in, or the player logged out, while this call was out; it belongs to the session that started it.");
        }

        /// <summary>
        /// 401 not_logged_in after the panel confirmed the deletion of the player's account (AccountService): everything
        /// the kit kept for the player on the device is wiped and nobody is logged in.
        /// </summary>
        internal static ApiError AccountDeleted()
        {
            return new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in",
                "The player's account was deleted (the panel confirmed a DELETE player that went out earlier); its data on this device is wiped.");
        }

        /// <summary>
        /// 401 not_logged_in: the session was revoked (401 token_revoked, not by the erasure) while a DELETE of the account
        /// is unconfirmed. Nobody logs in silently; the game's next LoginAsync settles the DELETE.
        /// </summary>
        internal static ApiError SessionLostWithDeletionPending()
        {
            return new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in",
                "The session was revoked (not by the account's deletion) while a DELETE of the account is unconfirmed; log in again: the login settles it.");
        }

        /// <summary>409 deletion_not_done: the unconfirmed DELETE never arrived (the next login answered the same player).</summary>
        internal static ApiError DeletionNotDone()
        {
            return new ApiError(409, ErrorCodes.DeletionNotDone, "Deletion not done",
                "The account still exists: the DELETE sent earlier never reached the panel. Ask the player again before deleting.");
        }

        /// <summary>
        /// Builds the error from a non-2xx response; tolerates bodies that are not problem JSON (proxies, load balancers).
        /// Status is always the HTTP status, as in the Unreal kit: a body whose "status" member disagrees with it (a proxy's
        /// JSON, a problem relayed by a gateway) changes neither Status nor what the kit does (IsTransient, EndsSession...);
        /// that member stays in Problem as it came.
        /// </summary>
        public static ApiError FromResponse(int status, string body, string retryAfterHeader)
        {
            float? retryAfter = ParseRetryAfter(retryAfterHeader);
            Dictionary<string, object> problem = Json.ParseObject(body);
            if (problem == null)
            {
                return new ApiError(status, FallbackCode(status), "HTTP " + status,
                    "The server answered " + status + " without a problem document.", null, retryAfter);
            }
            return new ApiError(
                status,
                Json.GetString(problem, "code"),
                Json.GetString(problem, "title"),
                Json.GetString(problem, "detail"),
                Json.GetString(problem, "type"),
                retryAfter,
                problem);
        }

        static float? ParseRetryAfter(string header)
        {
            if (string.IsNullOrEmpty(header)) return null;
            float seconds;
            if (float.TryParse(header, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out seconds))
                return Math.Max(0f, seconds);
            DateTime when; // Retry-After may also be an HTTP date
            if (DateTime.TryParse(header, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal, out when))
                return (float)Math.Max(0, (when - DateTime.UtcNow).TotalSeconds);
            return null;
        }

        static string FallbackCode(int status)
        {
            switch (status)
            {
                case 0: return ErrorCodes.NetworkError;
                case 400: return ErrorCodes.ValidationError;
                case 401: return "not_authenticated";
                case 403: return "permission_denied";
                case 404: return "not_found";
                case 429: return ErrorCodes.RateLimited;
                default: return status >= 500 ? "server_error" : "http_" + status;
            }
        }

        public override string ToString()
        {
            return "ApiError " + Status + " " + Code + ": " + Message;
        }
    }
}
