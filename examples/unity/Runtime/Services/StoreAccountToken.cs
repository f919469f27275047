// Gaming Panel Unity example: the store account token, which ties an App Store or Google Play purchase to the
// player who made it, so a receipt that leaks cannot be redeemed by somebody else first.
//
// The token is a name-based UUID (RFC 9562 version 5, SHA-1) of the player id that login returned (decimal
// text, e.g. "7"), in the namespace 30e9ef35-f03c-5ad2-a865-50d1cf91596e (= uuid5(NAMESPACE_URL,
// "https://gamingpanel/store-account")). The server derives the same value and refuses a receipt whose
// appAccountToken (Apple) or obfuscatedExternalAccountId (Google Play) is another player's with
// 403 receipt_account_mismatch. Give it to the store when the purchase starts:
//   Apple, StoreKit 2:            Product.PurchaseOption.appAccountToken(UUID(uuidString: token))
//   Apple, StoreKit 1 / Unity IAP: applicationUsername = token  (IAppleExtensions.SetApplicationUsername(token));
//                                 a UUID there comes back to the server as appAccountToken
//   Google Play Billing:          BillingFlowParams.Builder.setObfuscatedAccountId(token)
//                                 (Unity IAP: IGooglePlayConfiguration.SetObfuscatedAccountId(token))
using System;
using System.Security.Cryptography;
using System.Text;

namespace GamingPanel
{
    public static class StoreAccountToken
    {
        static readonly byte[] Namespace =
        {
            0x30, 0xe9, 0xef, 0x35, 0xf0, 0x3c, 0x5a, 0xd2, 0xa8, 0x65, 0x50, 0xd1, 0xcf, 0x91, 0x59, 0x6e,
        };

        /// <summary>The token for a player id as login returned it ("7"): lower-case 8-4-4-4-12 hex.</summary>
        public static string ForPlayer(string playerId)
        {
            if (string.IsNullOrEmpty(playerId)) throw new ArgumentException("playerId is required.");
            byte[] name = Encoding.UTF8.GetBytes(playerId);
            var data = new byte[Namespace.Length + name.Length];
            Buffer.BlockCopy(Namespace, 0, data, 0, Namespace.Length);
            Buffer.BlockCopy(name, 0, data, Namespace.Length, name.Length);
            byte[] hash;
            using (SHA1 sha1 = SHA1.Create()) hash = sha1.ComputeHash(data);
            hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
            hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
            var text = new StringBuilder(36);
            for (int i = 0; i < 16; i++)
            {
                if (i == 4 || i == 6 || i == 8 || i == 10) text.Append('-');
                text.Append(hash[i].ToString("x2"));
            }
            return text.ToString();
        }
    }

    /// <summary>The `receipt` of POST shop/receipts, per store.</summary>
    public static class StoreReceipts
    {
        /// <summary>StoreKit 2: Transaction.jwsRepresentation.</summary>
        public static object AppleSignedTransaction(string jwsRepresentation) { return jwsRepresentation; }

        /// <summary>StoreKit 1: SKPaymentTransaction.transactionIdentifier (the server looks it up with Apple).</summary>
        public static object AppleTransactionId(string transactionIdentifier)
        {
            return new System.Collections.Generic.Dictionary<string, object> { { "transaction_id", transactionIdentifier } };
        }

        /// <summary>Google Play Billing: Purchase.getPurchaseToken().</summary>
        public static object GooglePlayPurchaseToken(string purchaseToken)
        {
            return new System.Collections.Generic.Dictionary<string, object> { { "purchase_token", purchaseToken } };
        }
    }
}
