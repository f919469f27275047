from gamingpanel.errors import DomainError


class OfferNotFound(DomainError):
    status, code, title = 404, "offer_not_found", "Offer not found"


class PurchaseNotFound(DomainError):
    status, code, title = 404, "purchase_not_found", "Purchase not found"


class OfferUnavailable(DomainError):
    status, code, title = 409, "offer_unavailable", "Offer not available"


class PurchaseLimitReached(DomainError):
    status, code, title = 409, "purchase_limit_reached", "Purchase limit reached"


class InvalidQuantity(DomainError):
    status, code, title = 400, "invalid_quantity", "Invalid quantity"


class NotARealMoneyOffer(DomainError):
    status, code, title = 409, "not_a_store_offer", "Offer is not sold through this store"


class StoreProductAmbiguous(DomainError):
    status, code, title = 409, "store_product_ambiguous", "Store product sold by several offers"


class ContentsUnavailable(DomainError):
    status, code, title = 503, "contents_unavailable", "Part of the offer cannot be granted yet"


class PaymentCancelled(DomainError):
    """The buyer cancelled the checkout: the purchase ended unpaid (its key answers this)."""

    status, code, title = 409, "payment_cancelled", "Checkout cancelled by the buyer"


class PaymentFailed(DomainError):
    """The processor reported the payment failed: the purchase ended unpaid."""

    status, code, title = 409, "payment_failed", "Payment failed"
