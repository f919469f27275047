// Gaming Panel Unity example: the shop, with purchases that are never charged twice.
//
// Every purchase attempt gets an Idempotency-Key (a GUID) that is written to disk *before* the request is
// sent and reused for every retry of that attempt: automatic retries after a timeout or a 5xx, the retry
// after a token refresh, and ResumePendingPurchasesAsync after the game was closed mid-purchase. The server
// answers a repeated key with the first result, so a purchase whose response was lost is completed, not
// bought again. The key is forgotten only once the server has given a definitive answer (ApiError.EndsPurchaseAttempt),
// and that includes 503 payment_provider_unavailable: the purchase ended with nothing charged and the server answers
// its key with that 503 for ever, so the game offers "try again", which is a new attempt with a new key. While the
// answer may still change with the same key (no answer, 429, 5xx, 409 request_in_progress, 401/403) it is kept.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    public sealed class ShopService
    {
        const string CategoriesCache = "shop_categories";
        // A local choice, not the server's: the server keeps every key and its answer for ever. An attempt left
        // unresolved for a day is let go on this device: a new tap on the same offer is then a new intent with a
        // new key, and ResumePendingPurchasesAsync no longer sends it. Nothing is lost by that: whatever the attempt
        // did stays on the server (a completed purchase is in the balances; a checkout that gets paid is granted
        // when the processor confirms, whatever the client does).
        static readonly TimeSpan PendingLifetime = TimeSpan.FromHours(24);
        // Every read-modify-write of the pending list (PlayerPrefs, one key per game for the whole process, so shared by
        // every client of the game) is done under this lock. Without it a purchase completing (its key removed) at the
        // same time as another one starting (its key added) could write back the list as it was before the other's
        // change, losing a key that must be sent again after a restart; two taps on the same offer at once could each
        // find no attempt and start two purchases under two keys; and the wipe of a deleted player's keys could be undone.
        static readonly object PendingLock = new object();

        readonly GamingPanelClient _client;
        readonly string _pendingKey;

        public ShopService(GamingPanelClient client)
        {
            _client = client;
            _pendingKey = "gamingpanel.pending_purchases." + client.Config.gameKey;
        }

        /// <summary>GET shop/categories: what this player can buy now (cached for display when offline).</summary>
        public Task<Cached<List<ShopCategory>>> GetCategoriesAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return CachedFetch.GetAsync(_client, "shop/categories", CategoriesCache, json =>
            {
                var array = json as List<object>;
                if (array == null) throw new ApiError(200, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON array.");
                return ShopCategory.ListFromJson(array);
            }, cancellationToken);
        }

        /// <summary>
        /// POST shop/purchase. Virtual-currency offers complete at once (Completed, new Balances); real-money
        /// offers come back Pending with a CheckoutUrl to open (Application.OpenURL or an in-game browser).
        /// Throws ApiError: insufficient_funds, validation_error... (definitive), payment_provider_unavailable (503:
        /// nothing charged, this attempt is over; offer "try again", which starts a new attempt with a new key), or
        /// another transient error (no answer, 429, 5xx, 409 request_in_progress) after which the purchase stays
        /// pending and is resumed with the same key.
        /// </summary>
        public async Task<PurchaseResult> PurchaseAsync(string offerId, int quantity = 1, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (string.IsNullOrEmpty(offerId)) throw new ArgumentException("offerId is required.");
            if (quantity < 1) throw new ArgumentOutOfRangeException("quantity", "quantity must be at least 1.");
            string playerId = _client.Auth.PlayerId;
            if (playerId == null) throw new ApiError(401, ErrorCodes.NotLoggedIn, "Not logged in", "Log in before buying.");

            // A tap on "Buy" while an earlier identical attempt is unresolved continues that attempt.
            Dictionary<string, object> attempt;
            lock (PendingLock)
            {
                List<Dictionary<string, object>> pending = LoadPending();
                attempt = pending.Find(p =>
                    Json.GetString(p, "player_id") == playerId && Json.GetString(p, "offer_id") == offerId &&
                    Json.GetLong(p, "quantity") == quantity);
                if (attempt == null)
                {
                    attempt = new Dictionary<string, object>
                    {
                        { "key", Guid.NewGuid().ToString() },
                        { "player_id", playerId },
                        { "offer_id", offerId },
                        { "quantity", (long)quantity },
                        { "created_at", DateTime.UtcNow },
                    };
                    pending.Add(attempt);
                    SavePending(pending);
                }
            }
            return await SendAsync(attempt, cancellationToken);
        }

        /// <summary>
        /// Re-sends purchases left unresolved by a lost connection or a closed game, with their original keys.
        /// Call after login / when back online. Returns the results the server confirmed; one attempt's failure
        /// does not stop the others (a transient one stays pending for the next call).
        /// </summary>
        public async Task<List<PurchaseResult>> ResumePendingPurchasesAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            var results = new List<PurchaseResult>();
            string playerId = _client.Auth.PlayerId;
            foreach (Dictionary<string, object> attempt in LoadPending())
            {
                if (Json.GetString(attempt, "player_id") != playerId) continue;
                try
                {
                    results.Add(await SendAsync(attempt, cancellationToken));
                }
                catch (ApiError error)
                {
                    // SendAsync kept or forgot this attempt's key; either way go on with the others.
                    if (error.IsTransient && !error.EndsPurchaseAttempt)
                        Debug.Log("[GamingPanel] Pending purchase of " + Json.GetString(attempt, "offer_id") + " still unresolved (" + error.Code + "); tried again later.");
                    else
                        Debug.LogWarning("[GamingPanel] Pending purchase of " + Json.GetString(attempt, "offer_id") + " failed: " + error.Code);
                }
            }
            return results;
        }

        /// <summary>
        /// The logged-in player's store account token (StoreAccountToken.ForPlayer of the id login returned), or
        /// null before login. Pass it to the store when a purchase starts: appAccountToken / applicationUsername
        /// (Apple), setObfuscatedAccountId (Google Play); the server refuses the receipt for anyone else.
        /// </summary>
        public string AccountToken
        {
            get
            {
                string playerId = _client.Auth.PlayerId;
                return playerId == null ? null : StoreAccountToken.ForPlayer(playerId);
            }
        }

        /// <summary>
        /// POST shop/receipts: redeem a store purchase for offerId ("apple" or "google_play"; receipt from
        /// StoreReceipts). Granted once per store transaction, so retrying after a lost answer returns the first
        /// result (200); call it again until it succeeds or fails definitively before finishing the purchase
        /// with the store. Throws ApiError: invalid_receipt, receipt_not_paid, receipt_already_used,
        /// receipt_account_mismatch (bought for another player) are final.
        /// </summary>
        public async Task<PurchaseResult> RedeemReceiptAsync(string provider, string offerId, object receipt,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (provider != "apple" && provider != "google_play") throw new ArgumentException("provider is apple or google_play.");
            if (string.IsNullOrEmpty(offerId)) throw new ArgumentException("offerId is required.");
            if (receipt == null) throw new ArgumentException("receipt is required.");
            var body = new Dictionary<string, object>
            {
                { "provider", provider },
                { "offer_id", Json.IdValue(offerId) },
                { "receipt", receipt },
            };
            // The server grants a store transaction once, so repeating the request is safe.
            string player = _client.Auth.PlayerId;
            HttpResult response = await _client.SendAuthorizedAsync("POST", "shop/receipts", body, null, true, player, cancellationToken);
            PurchaseResult result = PurchaseResult.FromResponse(response, null);
            if (result.Status == PurchaseStatus.Completed) _client.Player.ApplyBalancesToCache(result.Balances, player);
            return result;
        }

        public bool HasPendingPurchases
        {
            get
            {
                string playerId = _client.Auth.PlayerId;
                return LoadPending().Exists(p => Json.GetString(p, "player_id") == playerId);
            }
        }

        async Task<PurchaseResult> SendAsync(Dictionary<string, object> attempt, CancellationToken cancellationToken)
        {
            string key = Json.GetString(attempt, "key");
            string player = Json.GetString(attempt, "player_id") ?? _client.Auth.PlayerId;
            var body = new Dictionary<string, object>
            {
                { "offer_id", Json.IdValue(Json.GetString(attempt, "offer_id")) },
                { "quantity", Json.GetLong(attempt, "quantity", 1) },
            };
            var headers = new Dictionary<string, string> { { "Idempotency-Key", key } };

            HttpResult response = null;
            ApiError failure = null;
            try
            {
                // The attempt's own player: a pending purchase is never sent, nor retried, as another one.
                response = await _client.SendAuthorizedAsync("POST", "shop/purchase", body, headers, true, player, cancellationToken);
            }
            catch (ApiError error)
            {
                failure = error;
            }

            if (failure != null)
            {
                // A 4xx about the purchase itself (insufficient_funds, validation_error, idempotency_key_reused,
                // offer gone) is final, and so is 503 payment_provider_unavailable (stored against the key).
                // No answer, 429, 5xx, 409 request_in_progress (the first request is still opening the checkout)
                // or an auth problem: the server may not have seen it, may have completed it or is still at it;
                // keep the key so the next try gets the real outcome.
                if (failure.EndsPurchaseAttempt) RemovePending(key);
                throw failure;
            }

            RemovePending(key);
            PurchaseResult result = PurchaseResult.FromResponse(response, key);
            if (result.Status == PurchaseStatus.Completed) _client.Player.ApplyBalancesToCache(result.Balances, player);
            return result;
        }

        List<Dictionary<string, object>> LoadPending()
        {
            var pending = new List<Dictionary<string, object>>();
            object parsed = null;
            try
            {
                if (PlayerPrefs.HasKey(_pendingKey)) parsed = Json.Parse(PlayerPrefs.GetString(_pendingKey));
            }
            catch (FormatException)
            {
                parsed = null;
            }
            var list = parsed as List<object>;
            if (list == null) return pending;
            DateTime cutoff = DateTime.UtcNow - PendingLifetime;
            foreach (object item in list)
            {
                var attempt = item as Dictionary<string, object>;
                if (attempt == null) continue;
                DateTime? created = Json.GetDateTime(attempt, "created_at");
                // Past PendingLifetime this device lets the attempt go (the server still knows its key): a new tap is a new purchase.
                if (created.HasValue && created.Value < cutoff) continue;
                pending.Add(attempt);
            }
            return pending;
        }

        void SavePending(List<Dictionary<string, object>> pending)
        {
            PlayerPrefs.SetString(_pendingKey, Json.Serialize(pending));
            PlayerPrefs.Save();
        }

        /// <summary>The player's account was deleted: their pending purchase keys go (the other players' stay).</summary>
        internal void ForgetPlayer(string playerId)
        {
            lock (PendingLock)
            {
                List<Dictionary<string, object>> pending = LoadPending();
                if (pending.RemoveAll(p => Json.GetString(p, "player_id") == playerId) == 0) return;
                if (pending.Count == 0)
                {
                    PlayerPrefs.DeleteKey(_pendingKey);
                    PlayerPrefs.Save();
                }
                else SavePending(pending);
            }
        }

        void RemovePending(string key)
        {
            lock (PendingLock)
            {
                List<Dictionary<string, object>> pending = LoadPending();
                pending.RemoveAll(p => Json.GetString(p, "key") == key);
                SavePending(pending);
            }
        }
    }
}
