// Gaming Panel Unity example: a headless dedicated server that admits only validated players, heartbeats
// (ServerHeartbeat: at a third of the panel's ttl_seconds, a lost beat sent again soon), reports the match, and
// deregisters on shutdown. Wire OnClientConnecting / OnMatchFinished to your netcode (Netcode for GameObjects'
// ConnectionApprovalCallback, Mirror's OnServerConnect, Fish-Net, Photon Fusion...). Server builds only.
#if UNITY_SERVER || UNITY_EDITOR || !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using GamingPanel.Server;
using UnityEngine;

namespace GamingPanel.Samples
{
    public class DedicatedServerSample : MonoBehaviour
    {
        [SerializeField] string baseUrl = "http://localhost:8000/api/v1/";
        [SerializeField] string serverId = "eu-1";
        [SerializeField] string region = "eu-west";
        [SerializeField] string publicAddress = "127.0.0.1";
        [SerializeField] int port = 7777;
        [SerializeField] int capacity = 16;
        [SerializeField] string mode = "deathmatch";

        GamingPanelServerApi _api;
        ServerHeartbeat _heartbeat;
        bool _quitAfterDeregister;
        readonly Dictionary<string, TokenValidation> _admitted = new Dictionary<string, TokenValidation>();
        readonly HashSet<string> _connected = new HashSet<string>();
        string _matchId;
        DateTime _matchStartedUtc;

        void Start()
        {
            _api = GamingPanelServerApi.FromEnvironment(baseUrl); // GAMINGPANEL_SERVER_KEY=... ./Server.x86_64
            _matchId = Guid.NewGuid().ToString();
            _matchStartedUtc = DateTime.UtcNow;
            _heartbeat = new ServerHeartbeat(_api, CurrentStatus);
            // The game has as many live servers as it may: this one is not listed (players cannot find it) until
            // another server stops; the heartbeat keeps trying with backoff. Alert your fleet manager here.
            _heartbeat.TooManyServers += error => Debug.LogError("[GamingPanel] Not listed: the game is at its limit of " +
                (_heartbeat.Limit.HasValue ? _heartbeat.Limit.Value.ToString() : "?") + " live servers.");
            _heartbeat.Start();
            Application.wantsToQuit += DeregisterBeforeQuitting;
        }

        ServerStatus CurrentStatus()
        {
            return new ServerStatus
            {
                ServerId = serverId, Region = region, Address = publicAddress, Port = port,
                Capacity = capacity, Players = _connected.Count, Mode = mode, Version = Application.version,
            };
        }

        /// <summary>
        /// Holds the quit (Application.Quit, or the player stopping a server build) until the server is deregistered,
        /// at most 5 s: otherwise it would stay listed, and hold one of the game's places, for ttl_seconds.
        /// </summary>
        bool DeregisterBeforeQuitting()
        {
            if (_heartbeat == null || _quitAfterDeregister) return true;
            _quitAfterDeregister = true;
            QuitAfterDeregistering();
            return false;
        }

        async void QuitAfterDeregistering()
        {
            await StopHeartbeatAsync();
            Application.Quit();
        }

        /// <summary>Stops the heartbeat and deregisters (once); failures are logged, the entry then expires after ttl_seconds.</summary>
        async Task StopHeartbeatAsync()
        {
            ServerHeartbeat heartbeat = _heartbeat;
            _heartbeat = null;
            if (heartbeat == null) return;
            try
            {
                using (var timeout = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(5)))
                    await heartbeat.StopAsync(timeout.Token);
                Debug.Log("[GamingPanel] Deregistered " + serverId + ".");
            }
            catch (Exception error)
            {
                Debug.LogWarning("[GamingPanel] Could not deregister " + serverId + ": " + error.Message);
            }
        }

        // A quit that was not held (a stop from the host): deregister as far as the remaining time allows.
        void OnApplicationQuit() { StopHeartbeatInBackground(); }

        void OnDestroy()
        {
            Application.wantsToQuit -= DeregisterBeforeQuitting;
            StopHeartbeatInBackground();
        }

        async void StopHeartbeatInBackground() { await StopHeartbeatAsync(); }

        /// <summary>
        /// Call when a client connects with the access token it got from GamingPanelClient
        /// (client side: <c>await client.Auth.GetAccessTokenAsync(ct)</c>, sent in the connection payload).
        /// </summary>
        public async Task<bool> OnClientConnecting(string connectionId, string accessToken)
        {
            try
            {
                TokenValidation validation = await _api.ValidateTokenAsync(accessToken);
                if (!validation.MayJoin)
                {
                    Debug.Log("[GamingPanel] Refused " + connectionId + ": " + (validation.Banned ? "banned" : validation.Reason));
                    return false;
                }
                _admitted[connectionId] = validation;
                _connected.Add(connectionId);
                Debug.Log("[GamingPanel] Admitted " + validation.DisplayName + " (level " + validation.Level + ")");
                return true;
            }
            catch (ApiError error)
            {
                // The panel is unreachable. Refusing is the safe default; a studio may choose to admit and
                // re-validate later for casual modes.
                Debug.LogWarning("[GamingPanel] Could not validate " + connectionId + ": " + error.Code);
                return false;
            }
        }

        public void OnClientDisconnected(string connectionId)
        {
            // Keep the _admitted entry: a player who left still appears in the result (as a loss by default).
            _connected.Remove(connectionId);
        }

        /// <summary>Call once when the match ends with each connection's outcome and score.</summary>
        public async Task OnMatchFinished(Dictionary<string, MatchOutcome> outcomes, Dictionary<string, long> scores)
        {
            var result = new MatchResult
            {
                MatchId = _matchId,
                Mode = mode,
                StartedAtUtc = _matchStartedUtc,
                EndedAtUtc = DateTime.UtcNow,
            };
            // Once per player (the panel refuses a player listed twice): a player who reconnected has
            // several connections; the last one's outcome and score stand.
            var byPlayer = new Dictionary<string, MatchPlayerResult>();
            foreach (KeyValuePair<string, TokenValidation> entry in _admitted)
            {
                MatchOutcome outcome;
                long score;
                long scored = scores.TryGetValue(entry.Key, out score) ? score : 0;
                byPlayer[entry.Value.PlayerId] = new MatchPlayerResult
                {
                    PlayerId = entry.Value.PlayerId,
                    Outcome = outcomes.TryGetValue(entry.Key, out outcome) ? outcome : MatchOutcome.Loss,
                    Score = scored,
                    // Only stats the game defines (the demo's kills and best_score); any other key
                    // is 400 unknown_stat unless the game's match settings ignore undeclared stats.
                    Stats = new Dictionary<string, long> { { "best_score", scored } },
                };
            }
            result.Players.AddRange(byPlayer.Values);
            try
            {
                await _api.PostMatchResultAsync(result);
                Debug.Log("[GamingPanel] Match " + _matchId + " reported.");
            }
            catch (ApiError error)
            {
                // Same match id = applied once, so saving it and re-sending at the next start is safe,
                // when the failure was transient (no answer, 429, 5xx); a 4xx will fail again as it is.
                if (error.IsTransient)
                    Debug.LogError("[GamingPanel] Match result not delivered (" + error.Code + "); keep it and resend.");
                else
                    Debug.LogError("[GamingPanel] Match result refused (" + error.Code + "): " + error.Detail);
            }
        }
    }
}
#endif
