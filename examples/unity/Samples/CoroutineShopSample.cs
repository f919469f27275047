// Gaming Panel Unity example: the same SDK driven from coroutines instead of async/await.
using System.Collections;
using System.Collections.Generic;
using UnityEngine;

namespace GamingPanel.Samples
{
    public class CoroutineShopSample : MonoBehaviour
    {
        [SerializeField] string offerId = "1";

        public void BuyButtonPressed()
        {
            StartCoroutine(BuyAndReload());
        }

        IEnumerator BuyAndReload()
        {
            GamingPanelClient client = GamingPanelBootstrap.Client;
            if (client == null) yield break;

            PurchaseResult purchase = null;
            yield return client.Shop.PurchaseAsync(offerId).AsCoroutine(
                result => purchase = result,
                error => Debug.LogWarning("[GamingPanel] Purchase failed: " + error.Code));
            if (purchase == null) yield break;

            yield return client.Player.GetInventoryAsync().AsCoroutine(inventory =>
            {
                foreach (KeyValuePair<string, long> currency in inventory.Value.Currencies)
                    Debug.Log("[GamingPanel] " + currency.Key + ": " + currency.Value);
            });

            yield return client.Events.GetActiveAsync().AsCoroutine(events =>
            {
                foreach (GameEvent gameEvent in events.Value)
                {
                    foreach (EventReward reward in gameEvent.Rewards)
                    {
                        if (reward.Claimable && !reward.Claimed)
                            StartCoroutine(client.Events.ClaimRewardAsync(gameEvent.Id, reward.Id).AsCoroutine(
                                claim => Debug.Log("[GamingPanel] Claimed " + reward.Id + (claim.AlreadyClaimed ? " (earlier)" : ""))));
                    }
                }
            });
        }
    }
}
