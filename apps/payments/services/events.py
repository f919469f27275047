"""Processor and store notifications: verified, stored once as received (unknown types too),
answered at once, and processed by a Celery task after commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.payments.errors import UnknownProvider
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import apple, google_play, sandbox, stripe
from apps.payments.providers.base import Notification, Outcome
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import (
    close_unpaid,
    flag_purchase,
    fulfil_purchase,
    refund_purchase,
)

Parser = Callable[[bytes, Mapping[str, str], Mapping[str, str]], Notification]

PARSERS: dict[str, Parser] = {
    "stripe": lambda body, headers, query: stripe.parse_notification(body=body, headers=headers),
    "sandbox": lambda body, headers, query: sandbox.parse_notification(body=body, headers=headers),
    "apple": lambda body, headers, query: apple.parse_notification(body=body),
    "google_play": lambda body, headers, query: google_play.parse_notification(
        body=body, query=query
    ),
}
INTERPRETERS: dict[str, Callable[[str, dict[str, Any]], Outcome]] = {
    "stripe": stripe.interpret,
    "sandbox": sandbox.interpret,
    "apple": apple.interpret,
    "google_play": google_play.interpret,
}


def receive_notification(
    *, provider: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
) -> tuple[ProviderEvent, bool]:
    """Verify and store; returns the event and whether it is new. A bad signature raises before
    anything is stored. Processing is handed to Celery once the row is committed."""
    if provider not in PARSERS:
        raise UnknownProvider(f"No provider {provider!r}.")
    notification = PARSERS[provider](body, headers, query)
    with transaction.atomic():
        event, created = ProviderEvent.objects.get_or_create(
            provider=provider,
            event_id=notification.event_id,
            defaults={
                "game_id": notification.game_id,
                "event_type": notification.event_type[:100],
                "payload": notification.payload,
            },
        )
        if created or event.status in (ProviderEvent.Status.RECEIVED, ProviderEvent.Status.FAILED):
            from apps.payments.tasks import process_provider_event

            transaction.on_commit(lambda: process_provider_event.delay(event.pk), robust=True)
    return event, created


@transaction.atomic
def process_event(*, event_pk: int) -> ProviderEvent:
    """Idempotent: the event row is locked and marked processed in the same transaction as the
    grant or reversal it causes, so a redelivered task finds it done."""
    event = ProviderEvent.objects.select_for_update().get(pk=event_pk)
    if event.status in (ProviderEvent.Status.PROCESSED, ProviderEvent.Status.IGNORED):
        return event
    outcome = INTERPRETERS[event.provider](event.event_type, event.payload)
    payment = _find_payment(event, outcome) if outcome.action != "none" else None
    if payment is None:
        event.status = ProviderEvent.Status.IGNORED
        event.outcome = outcome.note or "no payment of ours matches this notification"
    else:
        _apply(outcome, payment)
        event.status = ProviderEvent.Status.PROCESSED
        event.outcome = f"{outcome.action} {outcome.note}".strip()[:200]
    event.payment = payment
    event.attempts += 1
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "outcome", "payment", "attempts", "processed_at"])
    return event


@transaction.atomic
def mark_failed(*, event_pk: int, error: str) -> None:
    ProviderEvent.objects.filter(pk=event_pk).exclude(status=ProviderEvent.Status.PROCESSED).update(
        status=ProviderEvent.Status.FAILED, outcome=error[:200]
    )


def _find_payment(event: ProviderEvent, outcome: Outcome) -> Payment | None:
    if event.game_id is None:
        return None
    payments = Payment.objects.filter(game_id=event.game_id, provider=event.provider)
    if outcome.external_id:
        return payments.filter(external_id=outcome.external_id).first()
    if outcome.payment_reference:
        return payments.filter(payment_reference=outcome.payment_reference).first()
    if outcome.purchase_id:
        return payments.filter(purchase_id=outcome.purchase_id).first()
    return None


def _apply(outcome: Outcome, payment: Payment) -> None:
    purchase_id = payment.purchase_id
    if outcome.action == "paid":
        payment.status = Payment.Status.SUCCEEDED
        payment.payment_reference = outcome.details.get("payment_reference") or (
            payment.payment_reference
        )
        payment.save(update_fields=["status", "payment_reference", "updated_at"])
        fulfil_purchase(purchase_id=purchase_id)
    elif outcome.action in ("refund", "chargeback"):
        status = Payment.Status.REFUNDED if outcome.action == "refund" else Payment.Status.DISPUTED
        Payment.objects.filter(pk=payment.pk).update(status=status, updated_at=timezone.now())
        refund_purchase(purchase_id=purchase_id, kind=outcome.action, note=outcome.note)
    elif outcome.action in ("expired", "failed"):
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
            status=outcome.action, updated_at=timezone.now()
        )
        close_unpaid(
            purchase_id=purchase_id,
            status=Purchase.Status.EXPIRED
            if outcome.action == "expired"
            else Purchase.Status.FAILED,
            note=f"checkout {outcome.action}",
        )
    elif outcome.action == "flag":
        flag_purchase(purchase_id=purchase_id, note=outcome.note)
