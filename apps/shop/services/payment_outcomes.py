"""What a payment's news means for its purchase: the handler the shop registers with payments
(`apps.shop.apps.ShopConfig.ready`), so payments, the library below, never imports the shop."""

from __future__ import annotations

from apps.payments.errors import ProviderUnavailable
from apps.payments.providers.base import PaidAmount
from apps.payments.services.checkout import checkout_opened
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import (
    close_unpaid,
    flag_purchase,
    fulfil_purchase,
    refund_purchase,
)
from apps.shop.services.purchase import problem_of, store_response

CLOSED_STATUS = {"expired": Purchase.Status.EXPIRED, "failed": Purchase.Status.FAILED}


class ShopPurchaseOutcomes:
    def paid(self, *, purchase_id: int, paid: PaidAmount | None) -> str:
        purchase, _ = fulfil_purchase(purchase_id=purchase_id, paid=paid)
        flagged = purchase.needs_attention and purchase.status != Purchase.Status.COMPLETED
        return purchase.note if flagged else ""

    def reversed(self, *, purchase_id: int, kind: str, note: str) -> None:
        refund_purchase(purchase_id=purchase_id, kind=kind, note=note)

    def closed(self, *, purchase_id: int, outcome: str, note: str) -> None:
        purchase = close_unpaid(purchase_id=purchase_id, status=CLOSED_STATUS[outcome], note=note)
        if purchase.response_body is not None:
            return  # its key answers the 202 it was given; the purchase tells how it ended
        # Closed before its key stored an answer (the checkout was never opened, or the process
        # died right after opening it): without one, a retry with that key would open a
        # checkout for the closed purchase. The answer says how the checkout ended.
        ended = ProviderUnavailable(f"{_how_it_ended(purchase_id, outcome)}; {BUY_AGAIN}")
        store_response(purchase=purchase, status_code=ended.status, body=problem_of(ended))

    def flagged(self, *, purchase_id: int, note: str) -> None:
        flag_purchase(purchase_id=purchase_id, note=note)


BUY_AGAIN = "buy again with a new Idempotency-Key."


def _how_it_ended(purchase_id: int, outcome: str) -> str:
    if checkout_opened(purchase_id=purchase_id) is None:
        return "The checkout could not be opened"
    if outcome == "expired":
        return "The checkout expired unpaid"
    # A processor's failure and the buyer's cancel both close the payment as failed.
    return "The checkout was cancelled or its payment failed"
