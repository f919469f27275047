"""Celery: ids in, one service call, retries with backoff. Tasks run with acks_late, so a
worker that dies mid-task leaves the message to be delivered again; the services are
idempotent, so running one twice changes nothing. No task keeps a result (`ignore_result`):
sending one then never waits on the result store. What a task never got to do is found again
by `sweep_payments` (services/recovery.py), run by beat."""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import shared_task
from django.conf import settings

from apps.payments.errors import ProviderUnavailable
from apps.payments.models import Payment
from apps.payments.providers import google_play
from apps.payments.selectors import enabled_account
from apps.payments.services import callbacks, expiry, processing, recovery, store_finish
from apps.payments.services.store_finish import STORE_FINISH
from gamingpanel.queueing import prune_task

logger = logging.getLogger(__name__)
# Waits of 2, 4, 8… s, none longer than TASK_RETRY_BACKOFF_MAX_SECONDS (inside the broker's
# visibility timeout: a retry held longer by a worker is delivered to another one as well).
RETRY = {
    "max_retries": 8,
    "retry_backoff": 2,
    "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
}


@shared_task(bind=True, acks_late=True, ignore_result=True, autoretry_for=(Exception,), **RETRY)
def process_provider_event(self: object, event_pk: int) -> str:
    try:
        return processing.process_event(event_pk=event_pk).status
    except Exception as exc:
        if self.request.retries >= self.max_retries:  # type: ignore[attr-defined]
            processing.mark_failed(event_pk=event_pk, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(bind=True, acks_late=True, ignore_result=True, autoretry_for=(Exception,), **RETRY)
def deliver_sandbox_callback(self: object, callback_pk: int) -> bool:
    """Any error is retried (the network, our webhook's answer, the database alike)."""
    return callbacks.deliver(callback_pk=callback_pk)


@shared_task(ignore_result=True)
def sweep_payments() -> dict[str, int]:
    report = recovery.sweep(
        event_task=process_provider_event,
        callback_task=deliver_sandbox_callback,
        finish_task=finish_google_purchase,
    )
    return asdict(report)


@prune_task
def expire_checkouts() -> int:
    """Checkouts unpaid at their end: expired, their stock and limit slots given back. Batches
    until none is due, acknowledged on receipt as the prunes are (a first run over a backlog can
    outlast the broker's visibility timeout); a run lost to a crash is caught up a minute later."""
    return expiry.expire_checkouts()


@shared_task(
    bind=True, acks_late=True, ignore_result=True, autoretry_for=(ProviderUnavailable,), **RETRY
)
def finish_google_purchase(
    self: object, payment_pk: int, product_id: str | None = None, consume: bool | None = None
) -> None:
    """Consume (or acknowledge) a granted Google Play purchase, as its payment's details say
    (tasks queued before they said so carry the product and the kind). Once done, the payment
    no longer owes it; until then the sweeper queues this again. A purchase no longer granted
    or paid when the task runs (refunded meanwhile) is not finished: nothing is owed."""
    payment = Payment.objects.get(pk=payment_pk)
    if payment.store_finish_due_at is None and product_id is None:
        return  # done already
    if reason := store_finish.withheld_reason(payment_id=payment_pk):
        store_finish.withhold(payment_id=payment_pk, reason=reason)
        return
    owed = payment.details.get(STORE_FINISH) or {}
    product_id = product_id or owed.get("product_id")
    consume = owed.get("consume", False) if consume is None else consume
    account = enabled_account(game_id=payment.game_id, provider="google_play")
    if account is None or not product_id:
        logger.warning("google purchase %s not acknowledged: account disabled", payment_pk)
        return
    google_play.finish_purchase(
        account=account, product_id=product_id, token=payment.payment_reference, consume=consume
    )
    Payment.objects.filter(pk=payment_pk).update(store_finish_due_at=None)
