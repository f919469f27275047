"""The sandbox processor: a checkout page of the panel where "Pay" simulates the buyer paying
(or "Cancel", giving up); it then calls its own webhook with a signed event, exactly as a real
processor would. Refunds are an operator's, from the panel. Pages name a payment by its
unguessable `public_token`, never by its id."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse

from apps.payments.errors import InvalidNotification
from apps.payments.models import Payment
from apps.payments.providers import signing
from apps.payments.providers.base import Action, Notification, Outcome, PaidAmount

SIGNATURE_HEADER = "Sandbox-Signature"
ACTIONS: dict[str, Action] = {
    "payment.succeeded": "paid",
    "payment.refunded": "refund",
    "payment.expired": "expired",
    "payment.canceled": "failed",
}
# The callback each request sends: the buyer paid or cancelled, an operator refunded.
EVENT_TYPES: dict[str, str] = {
    "paid": "payment.succeeded",
    "cancel": "payment.canceled",
    "refund": "payment.refunded",
    "expired": "payment.expired",
}


def checkout_url(payment: Payment) -> str:
    path = reverse("payments-sandbox-checkout", args=[payment.public_token])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def new_event_id() -> str:
    return f"sbxevt_{uuid.uuid4().hex}"


def webhook_url() -> str:
    path = reverse("payments-webhooks-sandbox")
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def build_event(*, payment: Payment, action: str, event_id: str = "") -> tuple[bytes, str]:
    """The callback body and its signature header (signed now). A callback delivered again
    keeps its `event_id`, so the webhook recognises it."""
    event = {
        "id": event_id or new_event_id(),
        "type": EVENT_TYPES[action],
        "created": int(time.time()),
        "data": {
            "game_id": payment.game_id,
            "payment_id": payment.pk,
            "external_id": payment.external_id,
            "purchase_id": payment.purchase_id,
            "amount": payment.amount,
            "currency": payment.currency,
        },
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    return body, signing.sign(secret=settings.SANDBOX_PAYMENT_SECRET, body=body)


def parse_notification(*, body: bytes, headers: Mapping[str, str]) -> Notification:
    signing.verify(
        secrets=[settings.SANDBOX_PAYMENT_SECRET],
        body=body,
        header=headers.get(SIGNATURE_HEADER, ""),
        tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    )
    try:
        event = json.loads(body)
        data = event["data"]
        return Notification(str(event["id"]), str(event["type"]), event, int(data["game_id"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidNotification("Not a sandbox event.")


def interpret(event_type: str, payload: dict[str, Any]) -> Outcome:
    data = payload.get("data") or {}
    external_id = str(data.get("external_id") or "")
    action = ACTIONS.get(event_type, "none")
    if action != "paid":
        return Outcome(action, external_id=external_id)
    # Our own callback always carries the amount and currency, like a real processor.
    paid = PaidAmount.reported(amount=data.get("amount"), currency=data.get("currency"))
    return Outcome(action, external_id=external_id, paid=paid)
