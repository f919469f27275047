// Gaming Panel Unity example: a drop-in MonoBehaviour that logs in, loads the player's data and buys.
//
// Put it on a GameObject in your first scene, assign a GamingPanelConfig asset, press Play. With the local
// backend (`python manage.py runserver`, demo game, sandbox) the dev login needs nothing else.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel.Samples
{
    public class GamingPanelBootstrap : MonoBehaviour
    {
        public enum LoginMethod { Dev, Steam }

        [SerializeField] GamingPanelConfig config;
        [SerializeField] LoginMethod loginMethod = LoginMethod.Dev;
        [SerializeField] string devUserId = "unity-tester-1";
        [SerializeField] string devDisplayName = "Unity Tester";
        [Tooltip("Same string as the Steam 'identity' in the panel's platform settings for this game.")]
        [SerializeField] string steamIdentity = "gamingpanel";

        readonly CancellationTokenSource _lifetime = new CancellationTokenSource();
        float _nextRefreshCheck;

        public static GamingPanelClient Client { get; private set; }
        public PlayerStats Stats { get; private set; }
        public Inventory Inventory { get; private set; }
        public List<ShopCategory> Shop { get; private set; }
        public bool Offline { get; private set; }

        async void Start()
        {
            DontDestroyOnLoad(gameObject);
            Client = new GamingPanelClient(config);
            Client.Auth.CredentialProvider = CreateProvider(); // lets the SDK log in again silently
            Client.Auth.SessionLost += error => Debug.LogWarning("[GamingPanel] Session lost (" + error.Code + "): show the login screen.");

            try
            {
                if (!Client.Auth.HasSession)
                {
                    LoginResult login = await Client.LoginAsync(Client.Auth.CredentialProvider, _lifetime.Token);
                    Debug.Log("[GamingPanel] Logged in as " + login.DisplayName + (login.Created ? " (new player)" : ""));
                }
                else
                {
                    Debug.Log("[GamingPanel] Resumed saved session for " + Client.Auth.DisplayName);
                }
                await Client.Shop.ResumePendingPurchasesAsync(_lifetime.Token);
                await RefreshAllAsync();
            }
            catch (ApiError error)
            {
                HandleError("start-up", error);
            }
            catch (OperationCanceledException)
            {
                // The object was destroyed while loading.
            }
        }

        void Update()
        {
            // Refresh shortly before the 2-hour access token expires, even when the game makes no calls
            // (a long offline match), so the first call afterwards does not wait for a refresh.
            if (Client == null || Time.realtimeSinceStartup < _nextRefreshCheck) return;
            _nextRefreshCheck = Time.realtimeSinceStartup + 30f;
            if (Client.Auth.RefreshDue) RunInBackground(Client.Auth.RefreshIfDueAsync(_lifetime.Token), "token refresh");
        }

        void OnApplicationPause(bool paused)
        {
            // Mobile: the app may have been suspended for hours; check the token as soon as it comes back.
            if (!paused) _nextRefreshCheck = 0f;
            // Going to the background (the OS may kill the app there): analytics events tracked in the last 2 s to disk.
            else if (Client != null) Client.Analytics.SaveNow();
        }

        void OnApplicationQuit()
        {
            if (Client != null) Client.Analytics.SaveNow();
        }

        void OnDestroy()
        {
            _lifetime.Cancel();
        }

        public async Task RefreshAllAsync()
        {
            Cached<PlayerStats> stats = await Client.Player.GetStatsAsync(_lifetime.Token);
            Cached<Inventory> inventory = await Client.Player.GetInventoryAsync(_lifetime.Token);
            Cached<List<ShopCategory>> shop = await Client.Shop.GetCategoriesAsync(_lifetime.Token);
            Stats = stats.Value;
            Inventory = inventory.Value;
            Shop = shop.Value;
            Offline = stats.FromCache || inventory.FromCache;
            Debug.Log(string.Format("[GamingPanel] Level {0} ({1}/{2} XP), gold {3}, {4} item kinds{5}",
                Stats.Level, Stats.Xp, Stats.XpToNextLevel, Inventory.Balance("gold"), Inventory.Items.Count,
                Offline ? " [offline copy from " + inventory.FetchedAtUtc.ToLocalTime() + "]" : ""));
        }

        /// <summary>Hook this to a shop button (e.g. via a small wrapper passing the offer id).</summary>
        public async void Buy(string offerId)
        {
            try
            {
                PurchaseResult result = await Client.Shop.PurchaseAsync(offerId, 1, _lifetime.Token);
                if (result.Status == PurchaseStatus.Pending)
                {
                    // Real money: the processor's page takes the payment; the grant arrives when it confirms.
                    if (!string.IsNullOrEmpty(result.CheckoutUrl)) Application.OpenURL(result.CheckoutUrl);
                    return;
                }
                Debug.Log("[GamingPanel] Bought " + offerId + "; gold now " + (result.Balances.ContainsKey("gold") ? result.Balances["gold"] : 0));
                Inventory = (await Client.Player.GetInventoryAsync(_lifetime.Token)).Value;
            }
            catch (ApiError error)
            {
                HandleError("purchase", error);
            }
            catch (OperationCanceledException)
            {
            }
        }

        ICredentialProvider CreateProvider()
        {
#if STEAMWORKS_NET || !UNITY_5_3_OR_NEWER
            if (loginMethod == LoginMethod.Steam) return new SteamCredentialProvider(steamIdentity);
#endif
            return new DevCredentialProvider(devUserId, devDisplayName);
        }

        void HandleError(string what, ApiError error)
        {
            switch (error.Code)
            {
                case ErrorCodes.InsufficientFunds:
                    Debug.Log("[GamingPanel] Not enough currency: open the currency shop.");
                    break;
                case ErrorCodes.PaymentProviderUnavailable:
                    // Nothing was charged and this attempt is over: offer "Try again" (a new PurchaseAsync, a new key).
                    Debug.Log("[GamingPanel] " + what + ": the payment provider did not answer; nothing was charged. Offer to try again.");
                    break;
                case ErrorCodes.NetworkError:
                case ErrorCodes.PlatformUnavailable:
                    Debug.Log("[GamingPanel] " + what + ": server unreachable, playing offline. Purchases resume later.");
                    Offline = true;
                    break;
                case ErrorCodes.RateLimited:
                    Debug.Log("[GamingPanel] " + what + ": slow down, retry in " + error.RetryAfterSeconds + " s.");
                    break;
                case ErrorCodes.InvalidCredentials:
                    Debug.LogWarning("[GamingPanel] The platform did not accept this player (not owning the game?).");
                    break;
                default:
                    // Never show Detail raw to players; map Code to your own localised text.
                    Debug.LogWarning("[GamingPanel] " + what + " failed: " + error);
                    break;
            }
        }

        static async void RunInBackground(Task task, string what)
        {
            try
            {
                await task;
            }
            catch (ApiError error)
            {
                Debug.LogWarning("[GamingPanel] " + what + " failed: " + error.Code);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
