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

Each checkout is expired in its own short transaction, its payment locked first (SKIP LOCKED),
then its purchase, limit counter and offer (services/closing.py: why, and the shape the sweeper's
close of unopened checkouts shares)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.payments.models import Payment
from apps.payments.services.closing import CHECKOUT_EXPIRED, close_each
from apps.payments.services.processing import purchase_outcomes

logger = logging.getLogger(__name__)


def expire_checkouts(*, now: datetime | None = None) -> int:
    """Expire every checkout due, in batches of PAYMENTS_SWEEP_BATCH read in the order they
    ended (the payment_open_expiry index); returns how many this call expired. Safe with any
    number of workers at once: each checkout is expired by one of them."""
    now = now or timezone.now()
    due_before = now - timedelta(seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS)
    # Read again under each checkout's lock: one paid, submitted or expired meanwhile is left.
    due = Payment.objects.filter(status=Payment.Status.CREATED, expires_at__lte=due_before)
    expired = close_each(due, order_by="expires_at", close=_expire)
    if expired:
        logger.info("payments: %s checkouts expired unpaid", expired)
    return expired


def _expire(payment: Payment) -> None:
    """Inside the checkout's transaction, its payment locked."""
    payment.status = Payment.Status.EXPIRED
    payment.save(update_fields=["status", "updated_at"])
    purchase_outcomes().closed(
        purchase_id=payment.purchase_id,
        outcome=Payment.Status.EXPIRED,
        note=f"checkout expired unpaid at {payment.expires_at:%Y-%m-%d %H:%M} UTC",
        reason=CHECKOUT_EXPIRED,
    )
