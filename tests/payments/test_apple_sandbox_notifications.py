"""App Store Server Notifications from the Sandbox environment, for a game that accepts no
Sandbox transactions (game not in sandbox mode, no `accept_sandbox`): ignored as its Sandbox
receipts are refused, and the event says why. A tester's Sandbox refund must not reverse a
production purchase whose transaction id it names, nor, kept `unmatched`, refuse a production
receipt of that id."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from apps.payments.models import ProviderAccount, ProviderEvent
from apps.shop.models import Purchase
from tests.payments.conftest import committed
from tests.payments.test_apple import BUNDLE, apple, chain, redeem, transaction
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

__all__ = ["apple", "chain"]  # the fixtures


@pytest.fixture
def production_only(game, apple):
    game.sandbox = False
    game.save()
    apple.config = {**apple.config, "app_apple_id": 1234}
    apple.save()
    return apple


def post_sandbox_refund(api_client, chain):
    notification = {
        "notificationType": "REFUND",
        "notificationUUID": str(uuid.uuid4()),
        "signedDate": int(time.time() * 1000),
        "data": {
            "bundleId": BUNDLE,
            "environment": "Sandbox",
            "signedTransactionInfo": chain.sign(transaction(revocationDate=1)),
        },
    }
    body = json.dumps({"signedPayload": chain.sign(notification)})
    with committed():
        return api_client.post(
            "/api/v1/payments/webhooks/apple", body, content_type="application/json"
        )


def test_a_sandbox_refund_does_not_reverse_a_production_purchase(
    api_client, player_client, player, real_offer, production_only, chain
):
    sold = redeem(player_client, chain.sign(transaction(environment="Production")), real_offer)
    assert sold.status_code == 201

    answer = post_sandbox_refund(api_client, chain)
    assert answer.status_code == 200, answer.content

    event = ProviderEvent.objects.get()
    assert event.status == ProviderEvent.Status.IGNORED
    assert "Sandbox" in event.outcome and "accepts no Sandbox" in event.outcome
    assert event.processed_at is not None
    assert Purchase.objects.get().status == Purchase.Status.COMPLETED
    assert balance(player, "gems") == 100


def test_a_sandbox_refund_of_an_unknown_transaction_does_not_refuse_its_receipt(
    api_client, player_client, player, real_offer, production_only, chain
):
    assert post_sandbox_refund(api_client, chain).status_code == 200
    event = ProviderEvent.objects.get()
    assert (event.status, event.reference) == (ProviderEvent.Status.IGNORED, "")

    response = redeem(player_client, chain.sign(transaction(environment="Production")), real_offer)

    assert response.status_code == 201
    assert balance(player, "gems") == 100


def test_a_game_accepting_sandbox_transactions_still_processes_them(
    api_client, player_client, player, real_offer, production_only, chain
):
    ProviderAccount.objects.filter(pk=production_only.pk).update(
        config={**production_only.config, "accept_sandbox": True}
    )
    assert redeem(player_client, chain.sign(transaction()), real_offer).status_code == 201

    post_sandbox_refund(api_client, chain)

    assert ProviderEvent.objects.get().status == ProviderEvent.Status.PROCESSED
    assert Purchase.objects.get().status == Purchase.Status.REFUNDED
