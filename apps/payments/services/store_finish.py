"""Whether a Google Play purchase may be finished with the store (consumed or acknowledged).

Google refunds a purchase nobody acknowledged within three days. That refund is what a buyer
whose purchase was not granted is owed, so only a granted purchase is acknowledged: one the shop
could not grant (contents the player cannot hold, an erased buyer, a season that ended) is left
unacknowledged, and its payment and purchase are flagged, with an ALERT, for an operator; when
Google refunds it, the voided-purchase notification ends the purchase as refunded. A purchase
whose refund was processed before its acknowledgement went out (the broker was down, the task
was retrying) is not acknowledged either: nothing is owed any more."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.payments.models import Payment
from apps.payments.services.processing import purchase_outcomes

logger = logging.getLogger(__name__)

STORE_FINISH = "store_finish"  # Payment.details: what Google Play is to be told, and how
# The shop's purchase status once what it bought was granted (Purchase.Status.COMPLETED), read
# through the payment's foreign key as the sweeper reads "pending": payments, below the shop,
# never imports its models.
GRANTED = "completed"
NOT_GRANTED = "Not acknowledged to Google Play (not granted): Google refunds it within 3 days."


def withheld_reason(*, payment_id: int) -> str:
    """Why this payment's purchase must not be finished with the store, or "" when it may:
    the payment still stands (succeeded) and its purchase was granted."""
    row = Payment.objects.filter(pk=payment_id).values_list("status", "purchase__status").first()
    if row is None:
        return "the payment no longer exists"
    status, purchase_status = row
    if status != Payment.Status.SUCCEEDED:
        return f"the payment was {status}"
    if purchase_status != GRANTED:
        return f"the purchase was not granted (it is {purchase_status})"
    return ""


@transaction.atomic
def withhold(*, payment_id: int, reason: str, owed: dict | None = None) -> None:
    """Leave the purchase unfinished with the store, for good: nothing is owed any more (the
    sweeper and a resent receipt queue nothing). A payment that still stands, whose purchase
    was not granted, is flagged with its purchase and an ALERT: the player paid and got
    nothing, and Google's automatic refund is what returns the money."""
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        return
    flag = payment.status == Payment.Status.SUCCEEDED
    finish = {**(payment.details.get(STORE_FINISH) or {}), **(owed or {}), "withheld": reason}
    payment.details = {**payment.details, STORE_FINISH: finish}
    payment.store_finish_due_at = None
    payment.needs_attention = payment.needs_attention or flag
    payment.save(update_fields=["details", "store_finish_due_at", "needs_attention", "updated_at"])
    if not flag:
        logger.info("google play purchase of payment %s not finished: %s", payment.pk, reason)
        return
    purchase_outcomes().flagged(purchase_id=payment.purchase_id, note=NOT_GRANTED)
    logger.error(
        "ALERT payments: Google Play purchase of payment %s (purchase %s) was paid but %s: it "
        "is not acknowledged, so Google refunds it within three days (flagged needs_attention)",
        payment.pk,
        payment.purchase_id,
        reason.removeprefix("the purchase "),
    )
