// Gaming Panel Unity example: where the game finds the backend.
//
// Create one with Assets > Create > Gaming Panel > Config, fill in the base URL and the game's public client
// key (Panel > Games > your game > Keys), and drag it onto GamingPanelBootstrap. The client key is public by
// design (it only names the game at login); never put a *server* key in a client build.
using UnityEngine;

namespace GamingPanel
{
    [CreateAssetMenu(fileName = "GamingPanelConfig", menuName = "Gaming Panel/Config")]
    public class GamingPanelConfig : ScriptableObject
    {
        [Tooltip("API root including /api/v1/, e.g. https://panel.example.com/api/v1/ (local: http://localhost:8000/api/v1/)")]
        public string baseUrl = "http://localhost:8000/api/v1/";

        [Tooltip("The game's public client key, sent as X-Game-Key at login. The local demo game uses demo-client-key.")]
        public string gameKey = "demo-client-key";

        [Tooltip("Seconds before a single HTTP request gives up.")]
        public int requestTimeoutSeconds = 15;

        [Tooltip("Refresh the access token this many seconds before it expires (access tokens live 2 hours).")]
        public int refreshMarginSeconds = 300;

        [Tooltip("Extra attempts for requests that are safe to repeat (reads, keyed purchases, claims) after a 429, 5xx or network error.")]
        public int maxTransientRetries = 2;

        /// <summary>Builds a config in code (tests, tools, or when you read settings from your own files).</summary>
        public static GamingPanelConfig Create(string baseUrl, string gameKey)
        {
            var config = CreateInstance<GamingPanelConfig>();
            config.baseUrl = baseUrl;
            config.gameKey = gameKey;
            return config;
        }
    }
}
