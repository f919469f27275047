"""Checkouts nobody finished (`tasks.expire_checkouts`, run by beat): a real-money checkout still
open at its end (`Payment.expires_at`: CHECKOUT_EXPIRY_SECONDS after its purchase began, or the
end Stripe gave its session) is expired, and its purchase with it, which gives back the stock and
the limit slot it held, once.

It waits PAYMENTS_SWEEP_GRACE_SECONDS past the end: a buyer who paid in the last second has the
processor's word on its way. Stripe's own `checkout.session.expired` and this sweep end the same
checkout: whichever comes second changes nothing (the payment changes only while `created`, the
purchase only while `pending`). A payment reported after the expiry is kept (the payment turns
`succeeded`) and its purchase flagged for an operator to grant or refund
(`shop.services.fulfilment.fulfil_purchase`); nothing is granted that nothing was reserved for.

Each checkout is expired in its own short transaction, locking its payment (SKIP LOCKED: one a
webhook or another worker holds is left to it, or to the next run), then its purchase, then the
purchase's limit counter and offer, the order a webhook and a purchase take them in. One
transaction for a whole batch would hold an offer's row while it waits for a buyer's counter
row that buyer holds while waiting for the offer: a deadlock, and a hot offer's buyers stalled
for the batch."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.payments.models import Payment
from apps.payments.services.processing import purchase_outcomes

logger = logging.getLogger(__name__)


def expire_checkouts(*, now: datetime | None = None) -> int:
    """Expire every checkout due, in batches of PAYMENTS_SWEEP_BATCH read in the order they
    ended (the payment_open_expiry index); returns how many this call expired. Safe with any
    number of workers at once: each checkout is expired by one of them."""
    now = now or timezone.now()
    due_before = now - timedelta(seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS)
    due = Payment.objects.filter(status=Payment.Status.CREATED, expires_at__lte=due_before)
    expired = 0
    while True:
        batch = list(due.order_by("expires_at").values_list("pk", flat=True)[: _batch_size()])
        done = sum(expire_checkout(payment_pk=pk, due_before=due_before) for pk in batch)
        expired += done
        # A full batch of which none could be expired is held by webhooks or another worker
        # right now: the next run comes back to it rather than this one reading it again.
        if len(batch) < _batch_size() or not done:
            break
    if expired:
        logger.info("payments: %s checkouts expired unpaid", expired)
    return expired


@transaction.atomic
def expire_checkout(*, payment_pk: int, due_before: datetime) -> bool:
    """Expire one checkout if it is still open and ended before `due_before`; False when it was
    paid, submitted or expired meanwhile, or is locked by whoever is deciding it now."""
    payment = (
        Payment.objects.select_for_update(skip_locked=True)
        .filter(pk=payment_pk, status=Payment.Status.CREATED, expires_at__lte=due_before)
        .first()
    )
    if payment is None:
        return False
    payment.status = Payment.Status.EXPIRED
    payment.save(update_fields=["status", "updated_at"])
    purchase_outcomes().closed(
        purchase_id=payment.purchase_id,
        outcome=Payment.Status.EXPIRED,
        note=f"checkout expired unpaid at {payment.expires_at:%Y-%m-%d %H:%M} UTC",
    )
    return True


def _batch_size() -> int:
    return max(settings.PAYMENTS_SWEEP_BATCH, 1)
