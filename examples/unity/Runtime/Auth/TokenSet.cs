// Gaming Panel Unity example: the session a login or refresh hands back, and where it is kept.
using System;
using System.Collections.Generic;
using UnityEngine;

namespace GamingPanel
{
    public sealed class TokenSet
    {
        public string AccessToken;
        public string RefreshToken;
        public DateTime AccessExpiresAtUtc;
        public DateTime RefreshExpiresAtUtc;
        public string PlayerId;
        public string DisplayName;
        /// <summary>
        /// The access token a DELETE player of this player went out with, while the panel has not confirmed the deletion
        /// (null: none). Kept with the session, on disk before the DELETE is sent, so that after a restart the kit still
        /// never logs in again silently and finishes the deletion (AccountService). A custom ITokenStorage must keep it
        /// (ToJson/FromJson do).
        /// </summary>
        public string UnconfirmedDeletionToken;
        /// <summary>
        /// The player that DELETE was of (null with a token: PlayerId). It is kept after the session ends (logout, a login,
        /// a refused or expired refresh token): then this TokenSet holds no tokens, only the unconfirmed DELETE, until the
        /// game's next login settles it (AccountService.PendingDeletionSettled).
        /// </summary>
        public string UnconfirmedDeletionPlayerId;
        /// <summary>The platform of the login whose session sent that DELETE (null: unknown).</summary>
        public string UnconfirmedDeletionPlatform;
        /// <summary>The platform this session logged in with (null: unknown, e.g. saved by an older kit).</summary>
        public string Platform;

        /// <summary>Only an unconfirmed DELETE is kept, no session (no refresh token).</summary>
        public bool HasSessionTokens { get { return !string.IsNullOrEmpty(RefreshToken); } }

        internal TokenSet Copy()
        {
            return (TokenSet)MemberwiseClone();
        }

        public bool AccessTokenExpired { get { return DateTime.UtcNow >= AccessExpiresAtUtc; } }
        public bool RefreshTokenExpired { get { return DateTime.UtcNow >= RefreshExpiresAtUtc; } }

        /// <summary>Reads the body of auth/third-party/login or auth/refresh. The player block may be absent on refresh.</summary>
        public static TokenSet FromResponse(Dictionary<string, object> body, TokenSet previous)
        {
            string access = Json.GetString(body, "access_token");
            string refresh = Json.GetString(body, "refresh_token");
            if (string.IsNullOrEmpty(access) || string.IsNullOrEmpty(refresh))
                throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "The token response has no access_token or refresh_token.");

            // Expiry is computed from the server's *durations*, not from timestamps, so a wrong device clock
            // does not make tokens look expired or eternal.
            DateTime now = DateTime.UtcNow;
            var tokens = new TokenSet
            {
                AccessToken = access,
                RefreshToken = refresh,
                AccessExpiresAtUtc = now.AddSeconds(Json.GetLong(body, "expires_in", 7200)),
                RefreshExpiresAtUtc = now.AddSeconds(Json.GetLong(body, "refresh_expires_in", 2592000)),
                PlayerId = previous != null ? previous.PlayerId : null,
                DisplayName = previous != null ? previous.DisplayName : null,
                Platform = previous != null ? previous.Platform : null,
            };
            Dictionary<string, object> player = Json.GetObject(body, "player");
            if (player != null)
            {
                tokens.PlayerId = Json.GetString(player, "id", tokens.PlayerId);
                tokens.DisplayName = Json.GetString(player, "display_name", tokens.DisplayName);
            }
            return tokens;
        }

        public string ToJson()
        {
            var data = new Dictionary<string, object>
            {
                { "access_token", AccessToken },
                { "refresh_token", RefreshToken },
                { "access_expires_at", ToUnix(AccessExpiresAtUtc) },
                { "refresh_expires_at", ToUnix(RefreshExpiresAtUtc) },
                { "player_id", PlayerId },
                { "display_name", DisplayName },
            };
            if (Platform != null) data["platform"] = Platform;
            if (UnconfirmedDeletionToken != null)
            {
                data["unconfirmed_deletion_token"] = UnconfirmedDeletionToken;
                data["unconfirmed_deletion_player_id"] = UnconfirmedDeletionPlayerId ?? PlayerId;
                if (UnconfirmedDeletionPlatform != null) data["unconfirmed_deletion_platform"] = UnconfirmedDeletionPlatform;
            }
            return Json.Serialize(data);
        }

        public static TokenSet FromJson(string json)
        {
            Dictionary<string, object> data = Json.ParseObject(json);
            if (data == null) return null;
            var tokens = new TokenSet
            {
                AccessToken = Json.GetString(data, "access_token"),
                RefreshToken = Json.GetString(data, "refresh_token"),
                AccessExpiresAtUtc = FromUnix(Json.GetLong(data, "access_expires_at")),
                RefreshExpiresAtUtc = FromUnix(Json.GetLong(data, "refresh_expires_at")),
                PlayerId = Json.GetString(data, "player_id"),
                DisplayName = Json.GetString(data, "display_name"),
                Platform = Json.GetString(data, "platform"),
                UnconfirmedDeletionToken = Json.GetString(data, "unconfirmed_deletion_token"),
                UnconfirmedDeletionPlayerId = Json.GetString(data, "unconfirmed_deletion_player_id"),
                UnconfirmedDeletionPlatform = Json.GetString(data, "unconfirmed_deletion_platform"),
            };
            if (tokens.UnconfirmedDeletionToken != null && tokens.UnconfirmedDeletionPlayerId == null)
                tokens.UnconfirmedDeletionPlayerId = tokens.PlayerId; // saved by an earlier kit: the session's player
            // No session and no unconfirmed DELETE: nothing was kept.
            return string.IsNullOrEmpty(tokens.RefreshToken) && tokens.UnconfirmedDeletionToken == null ? null : tokens;
        }

        static long ToUnix(DateTime utc)
        {
            return (long)(utc - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;
        }

        static DateTime FromUnix(long seconds)
        {
            return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(seconds);
        }
    }

    /// <summary>Where the session survives restarts. Swap in your own for secure storage.</summary>
    public interface ITokenStorage
    {
        TokenSet Load();
        void Save(TokenSet tokens);
        void Clear();
    }

    /// <summary>
    /// Keeps the session in PlayerPrefs (the registry on Windows, a plist on macOS/iOS, SharedPreferences on
    /// Android): plain text that other software on the device can read. Good enough for a prototype. For a
    /// shipped game put the refresh token in the platform's secure store instead (iOS Keychain, Android
    /// Keystore-backed EncryptedSharedPreferences, Windows DPAPI / Credential Manager, console save-data
    /// encryption) by implementing ITokenStorage. The refresh token is the 30-day key to the account.
    /// </summary>
    public sealed class PlayerPrefsTokenStorage : ITokenStorage
    {
        readonly string _key;

        public PlayerPrefsTokenStorage(string gameKey)
        {
            // One slot per game, so two games built from one project (or a dev and a live backend) don't mix.
            _key = "gamingpanel.session." + (gameKey ?? "default");
        }

        public TokenSet Load()
        {
            return PlayerPrefs.HasKey(_key) ? TokenSet.FromJson(PlayerPrefs.GetString(_key)) : null;
        }

        public void Save(TokenSet tokens)
        {
            PlayerPrefs.SetString(_key, tokens.ToJson());
            PlayerPrefs.Save(); // write now: a rotated refresh token lost to a crash would end the session
        }

        public void Clear()
        {
            PlayerPrefs.DeleteKey(_key);
            PlayerPrefs.Save();
        }
    }

    /// <summary>Keeps the session in memory only (tests, kiosk builds, or "don't remember me").</summary>
    public sealed class MemoryTokenStorage : ITokenStorage
    {
        TokenSet _tokens;
        public TokenSet Load() { return _tokens; }
        public void Save(TokenSet tokens) { _tokens = tokens; }
        public void Clear() { _tokens = null; }
    }
}
