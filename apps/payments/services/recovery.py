"""The payments sweeper (`tasks.sweep_payments`, run by beat): nothing accepted is lost when the
broker was down or a task gave up.

- Notifications left `received` (never queued: the broker was down when they arrived) or
  `failed` (the task's retries ran out) are queued again; so is a refund left `unmatched` (no
  payment of ours had its ids yet), a few times, without an alert when none ever does.
- Sandbox callbacks left `pending` (the buyer pressed Pay, an operator refunded, and the
  delivery was never queued or kept failing) are queued again.
- (Checkouts opened and never paid end at their expiry: services/expiry.py, its own beat task.)
- Checkouts never opened (the purchase's process died between its rows and the processor's
  answer) PAYMENTS_UNOPENED_CHECKOUT_SECONDS after the purchase began: the purchase is closed
  (failed), its stock and limit slot freed, and its key answers 503; each in its own short
  transaction (services/closing.py).
- Sandbox checkouts whose buyer pressed Pay or Cancel and whose callback the sweeper gave up
  delivering (flagged after PAYMENTS_SWEEP_MAX_ATTEMPTS re-queues): the checkout no longer
  expires (the buyer submitted it), so it is closed here (payment_failed or payment_cancelled)
  and the callback is never sent (`closed`).
- Purchases still pending whose payment already ended unpaid (`failed` or `expired`), left by
  releases whose failure path committed the payment and the purchase apart: closed now, their
  reservation released, with the reason the payment tells.
- Checkouts the buyer submitted whose processor has not decided PAYMENTS_UNDECIDED_ALERT_SECONDS
  later (a bank debit whose news never came): flagged `needs_attention`, with an ALERT, once;
  nothing is closed, since the money may still come.

Each row is touched only once it is older than PAYMENTS_SWEEP_GRACE_SECONDS, then at most
PAYMENTS_SWEEP_MAX_ATTEMPTS times, PAYMENTS_SWEEP_BACKOFF_SECONDS × 2^n apart (capped at an
hour). After the last attempt the row is flagged `needs_attention` and an `ALERT` error line is
logged. Re-queueing is safe: processing locks the event and does nothing for one already
processed, and a callback keeps its event id, so the webhook stores it once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.payments.models import Payment, Provider, ProviderEvent, SandboxCallback
from apps.payments.services import closing
from apps.payments.services.closing import close_each
from apps.payments.services.processing import purchase_outcomes
from apps.payments.services.queueing import enqueue_after_commit

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600
# Processors of checkouts (store receipts are paid before their payment row exists).
CHECKOUT_PROVIDERS = (Provider.STRIPE, Provider.SANDBOX)


@dataclass
class SweepReport:
    events_requeued: int = 0
    events_abandoned: int = 0
    callbacks_requeued: int = 0
    callbacks_abandoned: int = 0
    unopened_checkouts: int = 0
    store_finishes_requeued: int = 0
    undelivered_checkouts: int = 0
    stranded_purchases: int = 0
    undecided_payments: int = 0


def backoff(sweeps: int) -> timedelta:
    """The wait after the `sweeps`-th re-queue."""
    base = settings.PAYMENTS_SWEEP_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** max(sweeps - 1, 0), MAX_BACKOFF_SECONDS))


def sweep(
    *,
    event_task: Any,
    callback_task: Any,
    finish_task: Any = None,
    now: datetime | None = None,
) -> SweepReport:
    """`event_task` processes a notification by pk, `callback_task` delivers a sandbox callback
    by pk, `finish_task` consumes or acknowledges a Google Play purchase by its payment's pk
    (the tasks module passes its own: it imports this one)."""
    now = now or timezone.now()
    due = Q(next_sweep_at__isnull=True) | Q(next_sweep_at__lte=now)
    settled_before = now - timedelta(seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS)
    report = SweepReport()
    # An unmatched reversal is looked at again a few times (its payment's news may have been on
    # its way), then left as it is: a refund of a receipt never redeemed is not an operator's
    # problem, and a later redeem of it is refused.
    unfinished = Q(status__in=[ProviderEvent.Status.RECEIVED, ProviderEvent.Status.FAILED]) | Q(
        status=ProviderEvent.Status.UNMATCHED, sweeps__lt=settings.PAYMENTS_SWEEP_MAX_ATTEMPTS
    )
    events = ProviderEvent.objects.filter(
        due,
        unfinished,
        needs_attention=False,
        received_at__lte=settled_before,
    )
    report.events_requeued, report.events_abandoned = _sweep_rows(
        events, now=now, task=event_task, describe=_describe_event
    )
    callbacks = SandboxCallback.objects.filter(
        due,
        status=SandboxCallback.Status.PENDING,
        needs_attention=False,
        created_at__lte=settled_before,
    )
    report.callbacks_requeued, report.callbacks_abandoned = _sweep_rows(
        callbacks, now=now, task=callback_task, describe=_describe_callback
    )
    # After the callbacks: one given up on just now is closed in this same run.
    report.undelivered_checkouts = _close_undelivered_checkouts()
    report.unopened_checkouts = _close_unopened_checkouts(now=now)
    report.stranded_purchases = _close_stranded_purchases(settled_before=settled_before)
    report.undecided_payments = _flag_undecided_payments(now=now)
    if finish_task is not None:
        report.store_finishes_requeued = _requeue_store_finishes(now=now, task=finish_task)
    if report.events_requeued or report.callbacks_requeued or report.stranded_purchases:
        logger.info("payments sweep: %s", report)
    return report


def _close_unopened_checkouts(*, now: datetime) -> int:
    """Purchases whose checkout was never opened: the purchase and its payment row committed,
    then the process died (or the processor call raised something unforeseen) before the
    session was stored. Nobody has a checkout URL, so nobody can pay: the purchase is closed,
    freeing its stock and the buyer's limit slot. Each in its own short transaction, as the
    expiry sweep closes checkouts (services/closing.py)."""
    begun_before = now - timedelta(seconds=settings.PAYMENTS_UNOPENED_CHECKOUT_SECONDS)
    unopened = Payment.objects.filter(
        provider__in=CHECKOUT_PROVIDERS,
        status=Payment.Status.CREATED,
        checkout_url="",
        created_at__lte=begun_before,
    )
    return close_each(unopened, order_by="created_at", close=_close_unopened)


def _close_unopened(payment: Payment) -> None:
    """Inside the checkout's transaction, its payment locked."""
    payment.status = Payment.Status.FAILED
    payment.details = {**payment.details, "error": "the checkout was never opened"}
    payment.save(update_fields=["status", "details", "updated_at"])
    purchase_outcomes().closed(
        purchase_id=payment.purchase_id,
        outcome=Payment.Status.FAILED,
        note="checkout never opened",
        reason=closing.NOT_OPENED,
    )
    logger.warning(
        "payments sweep: purchase %s closed, its checkout never opened", payment.purchase_id
    )


BUYER_ACTIONS = (SandboxCallback.Action.PAID, SandboxCallback.Action.CANCEL)


def _close_undelivered_checkouts() -> int:
    """Sandbox checkouts the buyer submitted (Pay or Cancel) whose callback the sweeper gave up
    on (`needs_attention`, after PAYMENTS_SWEEP_MAX_ATTEMPTS re-queues): pressing a button took
    the checkout's end away, so nothing else would ever end it and its purchase would hold its
    stock and limit slot for good. Read through the open payments' index (payment_open_created)."""
    unsent = Payment.objects.filter(
        provider=Provider.SANDBOX,
        status=Payment.Status.CREATED,
        callbacks__action__in=BUYER_ACTIONS,
        callbacks__status=SandboxCallback.Status.PENDING,
        callbacks__needs_attention=True,
    )
    return close_each(unsent, order_by="created_at", close=_close_undelivered)


def _close_undelivered(payment: Payment) -> None:
    """Inside the checkout's transaction, its payment locked. The callback is closed unsent
    (a delivery still retrying then sends nothing); one that reached the webhook meanwhile is a
    payment reported after the close: kept and flagged (shop fulfilment)."""
    callbacks = SandboxCallback.objects.filter(
        payment=payment, action__in=BUYER_ACTIONS, status=SandboxCallback.Status.PENDING
    )
    action = callbacks.values_list("action", flat=True).first()
    callbacks.update(status=SandboxCallback.Status.CLOSED)
    cancelled = action == SandboxCallback.Action.CANCEL
    payment.status = Payment.Status.FAILED
    payment.details = {**payment.details, "error": f"the sandbox's {action} was never delivered"}
    payment.save(update_fields=["status", "details", "updated_at"])
    purchase_outcomes().closed(
        purchase_id=payment.purchase_id,
        outcome=Payment.Status.FAILED,
        note=f"sandbox {action} never delivered",
        reason=closing.PAYMENT_CANCELLED if cancelled else closing.PAYMENT_FAILED,
    )
    logger.warning(
        "payments sweep: purchase %s closed, the sandbox's %s callback never delivered",
        payment.purchase_id,
        action,
    )


def _close_stranded_purchases(*, settled_before: datetime) -> int:
    """Purchases still pending whose payment ended unpaid: written before a failed checkout's
    payment and purchase were ended in one transaction (or by any path that ends them apart),
    so no transition is left to close them. Payments knows the purchase only by its row; the
    shop's partial index of pending purchases (purchase_pending) keeps this read small."""
    stranded = Payment.objects.filter(
        status__in=[Payment.Status.FAILED, Payment.Status.EXPIRED],
        purchase__status="pending",
        updated_at__lte=settled_before,
    )
    return close_each(stranded, order_by="pk", close=_close_stranded)


def _close_stranded(payment: Payment) -> None:
    """Inside the payment's transaction, its row locked; the shop closes the purchase only while
    it is pending, so a payment granted meanwhile keeps it."""
    purchase_outcomes().closed(
        purchase_id=payment.purchase_id,
        outcome=payment.status,
        note=f"payment was {payment.status}; reservation released by the sweeper",
        reason=_stranded_reason(payment),
    )
    logger.warning(
        "payments sweep: purchase %s closed, its payment %s was already %s",
        payment.purchase_id,
        payment.pk,
        payment.status,
    )


def _flag_undecided_payments(*, now: datetime) -> int:
    """Checkouts the buyer submitted (their end taken away: a bank debit Stripe reports
    `checkout.session.completed` unpaid, then `async_payment_succeeded` or `_failed` days later)
    still undecided PAYMENTS_UNDECIDED_ALERT_SECONDS after: if that news never comes (the
    endpoint not subscribed to the async events, a delivery Stripe gave up on), nothing else
    would end them, and the purchase would hold its stock and limit slot unseen. Flagged once,
    the payment and its purchase, with an ALERT for an operator to ask the processor; nothing is
    closed, since the money may still come. Read through the open payments' index."""
    submitted_before = now - timedelta(seconds=settings.PAYMENTS_UNDECIDED_ALERT_SECONDS)
    undecided = (
        Payment.objects.filter(
            provider__in=CHECKOUT_PROVIDERS,
            status=Payment.Status.CREATED,
            expires_at__isnull=True,
            needs_attention=False,
            updated_at__lte=submitted_before,
        )
        .exclude(checkout_url="")
        .order_by("created_at")
        .values_list("pk", "purchase_id")[: settings.PAYMENTS_SWEEP_BATCH]
    )
    flagged = 0
    for payment_id, purchase_id in list(undecided):
        with transaction.atomic():
            # Still open and unflagged: its news may have come since it was read.
            if not Payment.objects.filter(
                pk=payment_id, status=Payment.Status.CREATED, needs_attention=False
            ).update(needs_attention=True):
                continue
            purchase_outcomes().flagged(
                purchase_id=purchase_id,
                note="the processor has not decided the submitted payment: ask it",
            )
        flagged += 1
        logger.error(
            "ALERT payments: purchase %s: its payment %s was submitted and is still undecided "
            "by its processor; ask the processor (flagged needs_attention)",
            purchase_id,
            payment_id,
        )
    return flagged


def _stranded_reason(payment: Payment) -> str:
    if payment.status == Payment.Status.EXPIRED:
        return closing.CHECKOUT_EXPIRED
    buyer_cancelled = SandboxCallback.objects.filter(
        payment=payment, action=SandboxCallback.Action.CANCEL
    ).exists()
    if buyer_cancelled:
        return closing.PAYMENT_CANCELLED
    if payment.details.get("error"):
        return closing.NOT_OPENED  # the processor refused the checkout, or it never opened
    return closing.PAYMENT_FAILED


# Google Play refunds a purchase left unacknowledged this long after it was made.
GOOGLE_FINISH_WINDOW = timedelta(days=3)


def _requeue_store_finishes(*, now: datetime, task: Any) -> int:
    """Google Play purchases granted but not yet consumed or acknowledged (the broker was down,
    the task ran out of retries, the account was disabled): queued again with the usual
    backoff, until Google's window closes; then flagged, with an ALERT, for an operator."""
    requeued = 0
    with transaction.atomic():
        owed = (
            Payment.objects.select_for_update(skip_locked=True)
            .filter(store_finish_due_at__lte=now)
            .order_by("store_finish_due_at")
        )
        for payment in owed[: settings.PAYMENTS_SWEEP_BATCH]:
            if payment.created_at <= now - GOOGLE_FINISH_WINDOW:
                payment.store_finish_due_at = None
                payment.needs_attention = True
                payment.save(update_fields=["store_finish_due_at", "needs_attention", "updated_at"])
                logger.error(
                    "ALERT payments: Google Play purchase of payment %s was never acknowledged "
                    "within three days; Google refunds it (flagged needs_attention)",
                    payment.pk,
                )
                continue
            sweeps = int(payment.details.get("store_finish_sweeps", 0)) + 1
            payment.details = {**payment.details, "store_finish_sweeps": sweeps}
            payment.store_finish_due_at = now + backoff(sweeps)
            payment.save(update_fields=["details", "store_finish_due_at", "updated_at"])
            enqueue_after_commit(task, payment.pk)
            requeued += 1
    return requeued


def _sweep_rows(
    rows: models.QuerySet[Any], *, now: datetime, task: Any, describe: Any
) -> tuple[int, int]:
    """Lock one batch (skipping rows a worker holds right now), and for each either queue it
    again after commit or give up on it."""
    requeued = abandoned = 0
    with transaction.atomic():
        batch = rows.select_for_update(skip_locked=True).order_by("pk")
        for row in batch[: settings.PAYMENTS_SWEEP_BATCH]:
            if row.sweeps >= settings.PAYMENTS_SWEEP_MAX_ATTEMPTS:
                row.needs_attention = True
                row.save(update_fields=["needs_attention"])
                logger.error(
                    "ALERT payments: %s still not done after %s re-queues; an operator must "
                    "look (flagged needs_attention)",
                    describe(row),
                    row.sweeps,
                )
                abandoned += 1
                continue
            row.sweeps += 1
            row.next_sweep_at = now + backoff(row.sweeps)
            row.save(update_fields=["sweeps", "next_sweep_at"])
            enqueue_after_commit(task, row.pk)
            requeued += 1
    return requeued, abandoned


def _describe_event(event: ProviderEvent) -> str:
    return (
        f"{event.provider} notification {event.event_id} ({event.event_type}, "
        f"{event.status}: {event.outcome or 'never processed'})"
    )


def _describe_callback(callback: SandboxCallback) -> str:
    return (
        f"sandbox {callback.action} callback of payment {callback.payment_id} "
        f"({callback.attempts} deliveries, last error: {callback.last_error or 'never sent'})"
    )
