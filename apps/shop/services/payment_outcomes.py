"""What a payment's news means for its purchase: the handler the shop registers with payments
(`apps.shop.apps.ShopConfig.ready`), so payments, the library below, never imports the shop."""

from __future__ import annotations

from apps.payments.errors import CheckoutExpired, ProviderUnavailable
from apps.payments.providers.base import PaidAmount
from apps.payments.services import closing
from apps.payments.services.checkout import checkout_opened
from apps.shop.errors import PaymentCancelled, PaymentFailed
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import (
    close_unpaid,
    flag_purchase,
    fulfil_purchase,
    refund_purchase,
)
from apps.shop.services.purchase import problem_of, store_response
from gamingpanel.errors import DomainError

CLOSED_STATUS = {"expired": Purchase.Status.EXPIRED, "failed": Purchase.Status.FAILED}


class ShopPurchaseOutcomes:
    def paid(self, *, purchase_id: int, paid: PaidAmount | None) -> str:
        purchase, _ = fulfil_purchase(purchase_id=purchase_id, paid=paid)
        flagged = purchase.needs_attention and purchase.status != Purchase.Status.COMPLETED
        return purchase.note if flagged else ""

    def reversed(self, *, purchase_id: int, kind: str, note: str) -> None:
        refund_purchase(purchase_id=purchase_id, kind=kind, note=note)

    def closed(self, *, purchase_id: int, outcome: str, note: str, reason: str = "") -> None:
        status = CLOSED_STATUS[outcome]
        reason = reason or closing.DEFAULT_REASON[outcome]
        if checkout_opened(purchase_id=purchase_id) is None:
            reason = closing.NOT_OPENED  # nobody held a checkout: nothing to cancel or pay
        purchase = close_unpaid(purchase_id=purchase_id, status=status, note=note, outcome=reason)
        if purchase.response_body is not None or purchase.status not in CLOSED_STATUS.values():
            # Its key answers the 202 it was given (the purchase tells how it ended), or it was
            # paid first: nothing ended here.
            return
        # Closed before its key stored an answer (the checkout was never opened, or the process
        # died right after opening it): without one, a retry with that key would open a
        # checkout for the closed purchase. The answer says how the checkout ended.
        ended = ended_error(reason)
        store_response(purchase=purchase, status_code=ended.status, body=problem_of(ended))

    def flagged(self, *, purchase_id: int, note: str) -> None:
        flag_purchase(purchase_id=purchase_id, note=note)


BUY_AGAIN = "buy again with a new Idempotency-Key."


def ended_error(reason: str) -> DomainError:
    """The problem a key answers whose purchase ended unpaid before its 202 was stored."""
    if reason == closing.CHECKOUT_EXPIRED:
        return CheckoutExpired(f"The checkout expired unpaid; {BUY_AGAIN}")
    if reason == closing.PAYMENT_CANCELLED:
        return PaymentCancelled(
            f"The buyer cancelled the checkout; nothing was charged; {BUY_AGAIN}"
        )
    if reason == closing.PAYMENT_FAILED:
        return PaymentFailed(f"The payment failed; nothing was charged; {BUY_AGAIN}")
    return ProviderUnavailable(f"The checkout could not be opened; {BUY_AGAIN}")
