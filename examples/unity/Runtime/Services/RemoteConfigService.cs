// Gaming Panel Unity example: remote config with an offline copy.
//
// GET config answers every key resolved for this player, with an ETag. The last answer is kept on disk with its ETag
// and the time it was read from the panel (FetchedAtUtc, across restarts): the next fetch sends If-None-Match and a
// 304 keeps the copy, read now (its time moves, on disk too); offline (network error, 429 or 503 after the automatic
// retries, 5xx), on any refusal, or on a 2xx that is not the config (IsConfig: invalid_response) the copy is used,
// unchanged, with the error. The Unreal kit decides the same (FGamingPanelRemoteConfigCache).
// The client tells the server its build (X-Client-Version, Application.version) and platform (X-Client-Platform),
// which overrides may target. The config is the player's who is logged in when it is asked for: when another player
// (or nobody) is logged in by the time the answer arrives, neither it nor the saved copy is kept or answered for them.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    public sealed class RemoteConfigValues
    {
        public long Version;
        public string ETag;
        public Dictionary<string, object> Values = new Dictionary<string, object>();

        public bool Has(string key) { return Values.ContainsKey(key); }
        public string GetString(string key, string fallback = null) { return Json.GetString(Values, key, fallback); }
        public long GetLong(string key, long fallback = 0) { return Json.GetLong(Values, key, fallback); }
        public double GetDouble(string key, double fallback = 0) { return Json.GetDouble(Values, key, fallback); }
        public bool GetBool(string key, bool fallback = false) { return Json.GetBool(Values, key, fallback); }
        public Dictionary<string, object> GetObject(string key) { return Json.GetObject(Values, key); }
    }

    public sealed class RemoteConfigService
    {
        const string ConfigCache = "remote_config";
        readonly GamingPanelClient _client;

        /// <param name="clientVersion">Sent as X-Client-Version; Application.version when null. Only its leading numbers and
        /// dots are sent, at most 4 numbers of at most 6 digits ("1.0.0-beta" -> "1.0.0", "2024.1f1" -> "2024.1"), as the
        /// server takes them (NumericVersion); none: no header.</param>
        /// <param name="platform">Sent as X-Client-Platform; the build target's name when null.</param>
        public RemoteConfigService(GamingPanelClient client, string clientVersion = null, string platform = null)
        {
            _client = client;
            ClientVersion = NumericVersion(clientVersion ?? Application.version);
            Platform = platform ?? BuildPlatform();
        }

        /// <summary>The version sent as X-Client-Version, cut with NumericVersion when sent (none left: no header).</summary>
        public string ClientVersion { get; set; }
        public string Platform { get; set; }

        /// <summary>
        /// The config, from the server when it answers (a 304 keeps the saved copy, read now), else the saved copy,
        /// FromCache with the error: no answer, 429 or 503 (after the automatic retries; RetryAfterSeconds when the panel
        /// said one), any refusal, or a 2xx that is not the config (see IsConfig: invalid_response). 401
        /// not_logged_in when another player (or nobody) is logged in by the time the answer arrives.
        /// </summary>
        public async Task<Cached<RemoteConfigValues>> GetAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            string player = _client.Auth.PlayerId;
            DateTime savedAt;
            RemoteConfigValues saved = LoadCached(player, out savedAt);
            var headers = new Dictionary<string, string>();
            string version = NumericVersion(ClientVersion); // a version the server refuses would fail the whole request
            if (version != null) headers["X-Client-Version"] = version;
            if (!string.IsNullOrEmpty(Platform)) headers["X-Client-Platform"] = Platform;
            if (saved != null && !string.IsNullOrEmpty(saved.ETag)) headers["If-None-Match"] = saved.ETag;
            try
            {
                HttpResult response = await _client.SendAuthorizedAsync("GET", "config", null, headers, true, player, cancellationToken);
                Dictionary<string, object> json = response.JsonObject;
                long releaseVersion;
                if (!IsConfig(json, out releaseVersion)) // a 2xx that is not the config (an empty body, a captive portal's page): keep the copy
                    throw new ApiError(response.Status, ErrorCodes.InvalidResponse, "Invalid response",
                        "The answer to GET config is not the panel's config; the saved copy is kept.");
                var config = new RemoteConfigValues
                {
                    Version = releaseVersion,
                    ETag = response.Header("ETag"),
                    Values = Json.GetObject(json, "values"),
                };
                if (_client.Auth.PlayerId != player) throw ApiError.PlayerChanged(); // never kept under another player
                Keep(player, config);
                return new Cached<RemoteConfigValues> { Value = config, FetchedAtUtc = DateTime.UtcNow };
            }
            catch (ApiError error)
            {
                if (_client.Auth.PlayerId != player) throw ApiError.PlayerChanged(); // nor is this player's copy theirs
                if (error.Status == 304 && saved != null)
                {
                    // Still current: written again, so the copy says it was read from the panel now (after a restart too).
                    Keep(player, saved);
                    return new Cached<RemoteConfigValues> { Value = saved, FetchedAtUtc = DateTime.UtcNow };
                }
                // Offline, or any refusal: the saved copy keeps the game running, and Error says why it is not fresh.
                if (saved == null) throw;
                // FetchedAtUtc: when the saved copy was read from the panel (stored with it), as for cached stats.
                return new Cached<RemoteConfigValues> { Value = saved, FromCache = true, FetchedAtUtc = savedAt, Error = error };
            }
        }

        /// <summary>
        /// When the logged-in player's saved copy was last read from the panel (its 200, or a 304 confirming it), kept
        /// with the copy across restarts; DateTime.MinValue when there is none. The Unreal kit's GetFetchedAtUtc().
        /// </summary>
        public DateTime FetchedAtUtc
        {
            get
            {
                DateTime fetchedAt;
                return LoadCached(_client.Auth.PlayerId, out fetchedAt) != null ? fetchedAt : DateTime.MinValue;
            }
        }

        /// <summary>
        /// The panel's config: a JSON object whose "values" is an object and whose "version" is a whole number of at
        /// least 0 (the Unreal kit's FGamingPanelRemoteConfigCache::IsConfig). Anything else a 2xx brings (not an object,
        /// a field missing or of another type) is not the panel's answer: the saved copy is kept, invalid_response.
        /// </summary>
        public static bool IsConfig(Dictionary<string, object> json, out long version)
        {
            version = 0;
            if (json == null || Json.GetObject(json, "values") == null) return false;
            object raw;
            if (!json.TryGetValue("version", out raw)) return false;
            if (raw is long)
            {
                version = (long)raw;
                return version >= 0;
            }
            if (!(raw is double)) return false; // a string, a bool, null: not the release number
            double number = (double)raw;
            if (number < 0 || number > 9007199254740992.0 || number != Math.Floor(number)) return false;
            version = (long)number;
            return true;
        }

        /// <summary>Writes the copy for the player (LocalCache stamps it with the time it was read: now).</summary>
        void Keep(string player, RemoteConfigValues config)
        {
            _client.Cache.Save(player, ConfigCache, Json.Serialize(new Dictionary<string, object>
            {
                { "version", config.Version }, { "etag", config.ETag }, { "values", config.Values },
            }));
        }

        /// <summary>The saved copy without the network (first frame, or offline at start-up); null when none.</summary>
        public RemoteConfigValues LoadCached()
        {
            DateTime fetchedAt;
            return LoadCached(_client.Auth.PlayerId, out fetchedAt);
        }

        /// <summary>The player's saved copy and when it was read from the panel; null when none.</summary>
        RemoteConfigValues LoadCached(string player, out DateTime fetchedAt)
        {
            string body;
            if (!_client.Cache.TryLoad(player, ConfigCache, out body, out fetchedAt)) return null;
            Dictionary<string, object> json = Json.ParseObject(body);
            Dictionary<string, object> values = Json.GetObject(json, "values");
            if (values == null) return null; // not a copy this kit wrote: none (its ETag is not sent either)
            return new RemoteConfigValues
            {
                Version = Json.GetLong(json, "version"),
                ETag = Json.GetString(json, "etag"),
                Values = values,
            };
        }

        /// <summary>
        /// The build's version as the server takes it (apps/remoteconfig: ^\d{1,6}(\.\d{1,6}){0,3}$): its leading
        /// numbers and dots, at most 4 numbers of at most 6 ASCII digits each ("1.4.2-rc1" -> "1.4.2", "2024.1f1" ->
        /// "2024.1", "v1.4" -> "1.4", "1.2.3.4.5" -> "1.2.3.4", "1.2.20240131" -> "1.2"), or null when none is left.
        /// A number longer than 6 digits ends the version there rather than being cut into another number.
        /// </summary>
        public static string NumericVersion(string version)
        {
            if (string.IsNullOrEmpty(version)) return null;
            var numbers = new List<string>();
            int start = version[0] == 'v' || version[0] == 'V' ? 1 : 0;
            while (numbers.Count < 4)
            {
                int end = start;
                while (end < version.Length && version[end] >= '0' && version[end] <= '9') end++;
                if (end == start || end - start > 6) break;
                numbers.Add(version.Substring(start, end - start));
                if (end >= version.Length || version[end] != '.') break;
                start = end + 1;
            }
            return numbers.Count == 0 ? null : string.Join(".", numbers.ToArray());
        }

        static string BuildPlatform()
        {
#if UNITY_IOS
            return "ios";
#elif UNITY_ANDROID
            return "android";
#elif UNITY_STANDALONE_WIN
            return "windows";
#elif UNITY_STANDALONE_OSX
            return "macos";
#elif UNITY_STANDALONE_LINUX
            return "linux";
#elif UNITY_SWITCH
            return "switch";
#elif UNITY_PS4 || UNITY_PS5
            return "playstation";
#elif UNITY_GAMECORE || UNITY_XBOXONE
            return "xbox";
#elif UNITY_WEBGL
            return "web";
#else
            return null;
#endif
        }
    }
}
