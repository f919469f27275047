"""Apple's REFUND and REFUND_REVERSED of one transaction may be processed in either order (each
its own task; Apple retries either): the one Apple signed last (`signedDate`) decides. A refund
signed before a reversal already applied changes nothing, and a reversal of a refund never
applied asks nobody to re-grant what was never taken back."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.shop.models import Purchase
from tests.payments.conftest import committed
from tests.payments.test_apple import BUNDLE, apple, chain, redeem, transaction
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

__all__ = ["apple", "chain"]  # the fixtures

NOW = int(time.time() * 1000)


def post(api_client, chain, kind: str, *, signed: int, **info):
    notification = {
        "notificationType": kind,
        "notificationUUID": str(uuid.uuid4()),
        "signedDate": signed,
        "data": {
            "bundleId": BUNDLE,
            "environment": "Sandbox",
            "signedTransactionInfo": chain.sign(transaction(**info)),
        },
    }
    body = json.dumps({"signedPayload": chain.sign(notification)})
    with committed():
        answer = api_client.post(
            "/api/v1/payments/webhooks/apple", body, content_type="application/json"
        )
    assert answer.status_code == 200, answer.content
    return ProviderEvent.objects.get(event_type=kind)


def test_a_refund_processed_after_its_later_reversal_changes_nothing(
    api_client, player_client, player, real_offer, apple, chain
):
    assert redeem(player_client, chain.sign(transaction()), real_offer).status_code == 201

    reversed_ = post(api_client, chain, "REFUND_REVERSED", signed=NOW)
    refund = post(api_client, chain, "REFUND", signed=NOW - 60_000, revocationDate=1)

    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.COMPLETED
    assert balance(player, "gems") == 100
    assert not LedgerEntry.objects.filter(reason="refund").exists()
    # Nothing was taken back: nobody is asked to re-grant it.
    assert not purchase.needs_attention
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert reversed_.status == refund.status == ProviderEvent.Status.PROCESSED
    refund.refresh_from_db()
    assert "superseded" in refund.outcome
    reversed_.refresh_from_db()
    assert "nothing to re-grant" in reversed_.outcome


def test_in_apples_order_the_refund_is_applied_and_its_reversal_flagged(
    api_client, player_client, player, real_offer, apple, chain
):
    redeem(player_client, chain.sign(transaction()), real_offer)

    post(api_client, chain, "REFUND", signed=NOW - 60_000, revocationDate=1)
    post(api_client, chain, "REFUND_REVERSED", signed=NOW)

    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.REFUNDED
    assert purchase.needs_attention and "re-grant by hand" in purchase.note


def test_a_refund_signed_after_the_reversal_is_applied(
    api_client, player_client, player, real_offer, apple, chain
):
    """Refunded, reversed, refunded again, the last processed first: refunded."""
    redeem(player_client, chain.sign(transaction()), real_offer)

    post(api_client, chain, "REFUND", signed=NOW, revocationDate=1)
    reversed_ = post(api_client, chain, "REFUND_REVERSED", signed=NOW - 60_000)

    assert Purchase.objects.get().status == Purchase.Status.REFUNDED
    assert balance(player, "gems") == 0
    reversed_.refresh_from_db()
    assert "superseded" in reversed_.outcome
    assert not Purchase.objects.get().needs_attention
