from gamingpanel.errors import DomainError


class ProviderNotConfigured(DomainError):
    status, code, title = 409, "payment_provider_not_configured", "Payment provider not configured"


class ProviderUnavailable(DomainError):
    status, code, title = 503, "payment_provider_unavailable", "Payment provider unavailable"


class CheckoutInProgress(DomainError):
    """Another request with this purchase's key is opening its checkout right now (the
    processor refuses a second call with one idempotency key while the first runs). Nothing
    ended: the same Idempotency-Key, sent again in a moment, answers the checkout."""

    status, code, title = 409, "request_in_progress", "This request is still being processed"
    headers = {"Retry-After": "1"}


class InvalidSignature(DomainError):
    status, code, title = 400, "invalid_signature", "Invalid signature"


class InvalidNotification(DomainError):
    status, code, title = 400, "invalid_notification", "Invalid notification"


class InvalidReceipt(DomainError):
    status, code, title = 400, "invalid_receipt", "Invalid receipt"


class ReceiptProductMismatch(DomainError):
    status, code, title = 400, "receipt_product_mismatch", "Receipt is for another product"


class ReceiptNotPaid(DomainError):
    status, code, title = 409, "receipt_not_paid", "Receipt is not a completed payment"


class ReceiptAlreadyUsed(DomainError):
    status, code, title = 409, "receipt_already_used", "Receipt already redeemed by another player"


class ReceiptAccountMismatch(DomainError):
    status, code, title = 403, "receipt_account_mismatch", "Receipt belongs to another player"


class UnknownProvider(DomainError):
    status, code, title = 400, "unknown_provider", "Unknown payment provider"


class PaymentNotFound(DomainError):
    status, code, title = 404, "payment_not_found", "Payment not found"


class SandboxOnly(DomainError):
    status, code, title = 403, "sandbox_only", "Only for sandbox games"


class UnknownCheckoutAction(DomainError):
    status, code, title = 400, "unknown_checkout_action", "Unknown checkout action"


class RefundByOperatorOnly(DomainError):
    status, code, title = 403, "refund_by_operator_only", "Refunds are made by an operator"


class CheckoutAlreadySubmitted(DomainError):
    status, code, title = 409, "checkout_already_submitted", "Checkout already submitted"


class CheckoutExpired(DomainError):
    """The sandbox checkout ended unpaid (CHECKOUT_EXPIRY_SECONDS): its purchase is expired, or
    is about to be."""

    status, code, title = 409, "checkout_expired", "Checkout expired"


class PaymentNotRefundable(DomainError):
    status, code, title = 409, "payment_not_refundable", "Payment cannot be refunded here"
