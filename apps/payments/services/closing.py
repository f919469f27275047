"""Closing checkouts nobody will pay, one at a time: the shape the expiry sweep (services/expiry.py)
and the sweeper's close of checkouts never opened (services/recovery.py) share.

Each checkout is closed in its own short transaction: its payment row is locked first
(SKIP LOCKED: one a webhook or another worker holds is left to it, or to the next run), then
the close takes its purchase, the purchase's limit counter and its offer, the order a webhook
and a purchase take them in. One transaction for a whole batch would hold an offer's row while
it waits for a buyer's counter row that buyer holds while waiting for the offer: a deadlock,
and a hot offer's buyers stalled for the batch. A close that fails rolls back that checkout
alone, is logged, and is tried again by the next run; the others are closed.

Why a checkout ended unpaid is one of a few stable codes (`REASONS`), decided from what the
processor reported: its purchase stores it (`Purchase.outcome`) and answers it, so a game kit
tells the buyer's cancel from a failed payment from a checkout nobody finished."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import models, transaction

from apps.payments.models import Payment

logger = logging.getLogger(__name__)

# Why a checkout ended unpaid (the problem codes a purchase's key answers when it ended before
# its 202 was stored, and its `outcome`):
PAYMENT_CANCELLED = "payment_cancelled"  # the buyer cancelled the checkout (sandbox's Cancel)
# The processor reported the payment failed: Stripe's async_payment_failed (a declined card
# does not end a Checkout Session: the buyer may try another card until it expires).
PAYMENT_FAILED = "payment_failed"
# Nobody paid before its end: the processor's expiry (Stripe's checkout.session.expired, the
# sandbox's payment.expired) or ours (services/expiry.py). A buyer who left through Stripe's
# cancel URL may come back until then, so Stripe's checkouts end this way, never cancelled.
CHECKOUT_EXPIRED = "checkout_expired"
# The checkout could not be opened (the processor refused or did not answer, or the process
# died before it answered): the key's 503.
NOT_OPENED = "payment_provider_unavailable"
REASONS = (PAYMENT_CANCELLED, PAYMENT_FAILED, CHECKOUT_EXPIRED, NOT_OPENED)
# What a closing without a reason of its own means, by the payment status it ends in.
DEFAULT_REASON: dict[str, str] = {
    Payment.Status.EXPIRED: CHECKOUT_EXPIRED,
    Payment.Status.FAILED: PAYMENT_FAILED,
}


def close_each(
    due: models.QuerySet[Payment], *, order_by: str, close: Callable[[Payment], None]
) -> int:
    """`close` every payment `due` selects, read in batches of PAYMENTS_SWEEP_BATCH in `order_by`
    order, each locked and closed in its own transaction while `due` still selects it; returns
    how many were closed. Safe with any number of workers at once: each is closed by one."""
    size = max(settings.PAYMENTS_SWEEP_BATCH, 1)
    closed = 0
    while True:
        batch = list(due.order_by(order_by).values_list("pk", flat=True)[:size])
        done = sum(_close_one(due, payment_pk=pk, close=close) for pk in batch)
        closed += done
        # A full batch of which none could be closed is held by webhooks or another worker right
        # now (or keeps failing): the next run comes back to it rather than this one reading it
        # again.
        if len(batch) < size or not done:
            return closed


def _close_one(
    due: models.QuerySet[Payment], *, payment_pk: int, close: Callable[[Payment], None]
) -> bool:
    """False when the payment no longer is due (paid, submitted or closed meanwhile), is locked
    by whoever is deciding it now, or its close failed."""
    try:
        with transaction.atomic():
            # Only the payment's row: `due` may join its purchase, whose row the close locks
            # after the payment's, in the order every path takes them.
            payment = (
                due.select_for_update(skip_locked=True, of=("self",)).filter(pk=payment_pk).first()
            )
            if payment is None:
                return False
            close(payment)
            return True
    except Exception:
        logger.exception("payments: payment %s not closed; the next run tries again", payment_pk)
        return False
