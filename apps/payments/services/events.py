"""Processor and store notifications: verified, stored once as received (unknown types too),
answered at once, and processed by a Celery task (`processing.process_event`) after commit. The
stored row is the outbox: when the broker is down the enqueue fails within about a second, the
answer is still 200, and the sweeper (`recovery.sweep`) queues the event once it is back."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.db import transaction
from django.utils import timezone

from apps.payments.errors import UnknownProvider
from apps.payments.models import ProviderEvent
from apps.payments.providers import apple, google_play, sandbox, stripe
from apps.payments.providers.base import Notification, check_storable
from apps.payments.services.queueing import enqueue_after_commit
from apps.payments.tasks import process_provider_event
from gamingpanel.metrics import PAYMENT_EVENTS

Parser = Callable[[bytes, Mapping[str, str], Mapping[str, str]], Notification]

PARSERS: dict[str, Parser] = {
    "stripe": lambda body, headers, query: stripe.parse_notification(body=body, headers=headers),
    "sandbox": lambda body, headers, query: sandbox.parse_notification(body=body, headers=headers),
    "apple": lambda body, headers, query: apple.parse_notification(body=body),
    "google_play": lambda body, headers, query: google_play.parse_notification(
        body=body, query=query, headers=headers
    ),
}

# What each provider calls the notification's id (ProviderEvent.event_id).
ID_NAMES: dict[str, str] = {
    "stripe": "id",
    "sandbox": "id",
    "apple": "notificationUUID",
    "google_play": "messageId",
}


def receive_notification(
    *, provider: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
) -> tuple[ProviderEvent, bool]:
    """Verify and store; returns the event and whether it is new. A bad signature raises before
    anything is stored. Processing is handed to Celery once the row is committed."""
    if provider not in PARSERS:
        raise UnknownProvider(f"No provider {provider!r}.")
    notification = PARSERS[provider](body, headers, query)
    # Every provider's id and payload, whatever its parser checked: a verified notification
    # the row cannot hold is 400 `invalid_notification` and stores nothing, not a 500.
    check_storable(notification.event_id, notification.payload, id_name=ID_NAMES[provider])
    # One the provider's parser found nothing to do with is stored as such, never queued.
    settled = (
        {
            "status": ProviderEvent.Status.IGNORED,
            "outcome": notification.ignored[:200],
            "processed_at": timezone.now(),
        }
        if notification.ignored
        else {}
    )
    with transaction.atomic():
        event, created = ProviderEvent.objects.get_or_create(
            provider=provider,
            event_id=notification.event_id,
            defaults={
                "game_id": notification.game_id,
                "event_type": notification.event_type[:100],
                "payload": notification.payload,
                **settled,
            },
        )
        if created and settled:
            PAYMENT_EVENTS.labels(provider, ProviderEvent.Status.IGNORED).inc()
        elif created or event.status in (
            ProviderEvent.Status.RECEIVED,
            ProviderEvent.Status.FAILED,
        ):
            enqueue_after_commit(process_provider_event, event.pk)
    return event, created
