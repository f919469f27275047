// Gaming Panel Unity example: shop catalogue and purchase results.
using System;
using System.Collections.Generic;

namespace GamingPanel
{
    public sealed class Price
    {
        /// <summary>A virtual currency code ("gold"), or an ISO 4217 code ("EUR") when RealMoney is true.</summary>
        public string Currency;
        /// <summary>Virtual units, or minor units (cents) for real money: 499 EUR means 4.99 EUR.</summary>
        public long Amount;
        public bool RealMoney;
    }

    public sealed class OfferContent
    {
        /// <summary>Set for an item.</summary>
        public string Sku;
        /// <summary>Set for a currency grant.</summary>
        public string Currency;
        public long Quantity;
    }

    public sealed class ShopOffer
    {
        public string Id;
        public string Name;
        public Price Price = new Price();
        public List<OfferContent> Contents = new List<OfferContent>();
        /// <summary>Null when unlimited.</summary>
        public long? RemainingPurchases;
        public DateTime? AvailableUntilUtc;

        public static ShopOffer FromJson(Dictionary<string, object> json)
        {
            var offer = new ShopOffer
            {
                Id = Json.GetString(json, "id"),
                Name = Json.GetString(json, "name"),
                AvailableUntilUtc = Json.GetDateTime(json, "available_until"),
            };
            object remaining;
            if (json.TryGetValue("remaining_purchases", out remaining) && remaining != null) offer.RemainingPurchases = Json.ToLong(remaining);

            Dictionary<string, object> price = Json.GetObject(json, "price");
            offer.Price.Currency = Json.GetString(price, "currency");
            offer.Price.Amount = Json.GetLong(price, "amount");
            offer.Price.RealMoney = Json.GetBool(price, "real_money");

            List<object> contents = Json.GetArray(json, "contents");
            if (contents != null)
            {
                foreach (object raw in contents)
                {
                    var content = raw as Dictionary<string, object>;
                    if (content == null) continue;
                    offer.Contents.Add(new OfferContent
                    {
                        Sku = Json.GetString(content, "sku"),
                        Currency = Json.GetString(content, "currency"),
                        Quantity = Json.GetLong(content, "quantity"),
                    });
                }
            }
            return offer;
        }
    }

    public sealed class ShopCategory
    {
        public string Id;
        public string Name;
        public List<ShopOffer> Offers = new List<ShopOffer>();

        public static List<ShopCategory> ListFromJson(List<object> json)
        {
            var categories = new List<ShopCategory>();
            foreach (object raw in json)
            {
                var category = raw as Dictionary<string, object>;
                if (category == null) continue;
                var parsed = new ShopCategory { Id = Json.GetString(category, "id"), Name = Json.GetString(category, "name") };
                List<object> offers = Json.GetArray(category, "offers");
                if (offers != null)
                {
                    foreach (object offer in offers)
                    {
                        var offerJson = offer as Dictionary<string, object>;
                        if (offerJson != null) parsed.Offers.Add(ShopOffer.FromJson(offerJson));
                    }
                }
                categories.Add(parsed);
            }
            return categories;
        }
    }

    public enum PurchaseStatus
    {
        /// <summary>201: paid with virtual currency, contents granted, Balances are the new balances.</summary>
        Completed,
        /// <summary>202: real money; open CheckoutUrl, the grant arrives when the payment processor confirms.</summary>
        Pending,
    }

    public sealed class PurchaseResult
    {
        public PurchaseStatus Status;
        public string PurchaseId;
        public string IdempotencyKey;
        public Dictionary<string, long> Balances = new Dictionary<string, long>();
        public string CheckoutUrl;
        /// <summary>The whole response body, for fields this example does not model.</summary>
        public Dictionary<string, object> Raw;

        public static PurchaseResult FromResponse(HttpResult response, string idempotencyKey)
        {
            Dictionary<string, object> json = response.JsonObject;
            string status = Json.GetString(json, "status");
            var result = new PurchaseResult
            {
                Status = response.Status == 202 || status == "pending" ? PurchaseStatus.Pending : PurchaseStatus.Completed,
                PurchaseId = Json.GetString(json, "purchase_id") ?? Json.GetString(json, "id"),
                IdempotencyKey = idempotencyKey,
                CheckoutUrl = Json.GetString(Json.GetObject(json, "payment"), "checkout_url"),
                Raw = json,
            };
            Dictionary<string, object> balances = Json.GetObject(json, "balances");
            if (balances != null)
            {
                foreach (KeyValuePair<string, object> entry in balances) result.Balances[entry.Key] = Json.ToLong(entry.Value);
            }
            return result;
        }
    }
}
