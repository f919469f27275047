"""A processor's notification about an erased player's payment (one waiting when the erasure
ran, or a refund or chargeback sent after it) is processed as any other, then stored without
its payload: the buyer's name, e-mail or address it may carry are not kept."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.payments.models import Payment, ProviderEvent
from apps.payments.services import processing
from apps.payments.services.processing import process_event
from apps.shop.models import Purchase
from tests.accounts import erasure_races
from tests.payments.conftest import post_stripe, stripe_event
from tests.payments.test_stripe import completed, start

pytestmark = pytest.mark.django_db

BUYER = {"name": "Alice Example", "email": "alice@example.com", "address": {"city": "Lyon"}}


def refund(event_id: str = "evt_r") -> bytes:
    return stripe_event(
        "charge.refunded",
        {
            "id": "ch_1",
            "payment_intent": "pi_1",
            "refunded": True,
            "amount": 199,
            "billing_details": BUYER,
        },
        event_id=event_id,
    )


@pytest.fixture
def sold(api_client, player_client, player, real_offer, checkout, stripe_account) -> int:
    """One paid Stripe purchase."""
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))
    assert Purchase.objects.get(pk=purchase_id).status == Purchase.Status.COMPLETED
    return purchase_id


def test_a_refund_sent_after_the_erasure_is_processed_and_stored_without_its_payload(
    sold, api_client, player: Player
):
    assert erase_player(player=player, actor=None) is True

    assert post_stripe(api_client, refund()).status_code == 200

    event = ProviderEvent.objects.get(event_id="evt_r")
    assert event.payload == {}
    assert (event.provider, event.event_type, event.status) == (
        "stripe",
        "charge.refunded",
        ProviderEvent.Status.PROCESSED,
    )
    assert event.outcome.startswith("refund")
    assert event.payment == Payment.objects.get(purchase_id=sold)
    # Processed as any other: the money went back.
    assert event.payment.status == Payment.Status.REFUNDED
    assert Purchase.objects.get(pk=sold).status == Purchase.Status.REFUNDED


def test_a_notification_waiting_at_the_erasure_loses_its_payload_once_processed(
    sold, player: Player, game
):
    waiting = ProviderEvent.objects.create(
        game=game,
        provider="stripe",
        event_id="evt_r",
        event_type="charge.refunded",
        payload=json.loads(refund()),
    )
    assert erase_player(player=player, actor=None) is True
    assert ProviderEvent.objects.get(pk=waiting.pk).payload != {}  # not processed yet: kept

    process_event(event_pk=waiting.pk)

    waiting.refresh_from_db()
    assert waiting.payload == {}
    assert waiting.status == ProviderEvent.Status.PROCESSED
    assert waiting.event_id == "evt_r" and waiting.outcome.startswith("refund")
    assert Purchase.objects.get(pk=sold).status == Purchase.Status.REFUNDED


def test_a_players_notifications_keep_their_payload_until_the_erasure(sold, api_client):
    assert post_stripe(api_client, refund()).status_code == 200

    event = ProviderEvent.objects.get(event_id="evt_r")
    assert event.status == ProviderEvent.Status.PROCESSED
    assert event.payload["data"]["object"]["billing_details"] == BUYER


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_notification_processed_while_the_erasure_runs_loses_its_payload(
    sold, player: Player, game, monkeypatch: pytest.MonkeyPatch
):
    """The worst order, forced: the event is being processed when the erasure starts, and the
    erasure's clearing looks for processed events before this one commits. The erasure must
    wait for it (and clear it), or the event must see the erasure."""
    waiting = ProviderEvent.objects.create(
        game=game,
        provider="stripe",
        event_id="evt_r",
        event_type="charge.refunded",
        payload=json.loads(refund()),
    )
    inside = threading.Event()
    real_apply, real_erase = processing._apply, erasure_races.erase_player

    def slow_apply(*args: Any, **kwargs: Any) -> str:
        inside.set()
        time.sleep(0.5)  # the erasure runs now, unless this event holds the buyer's row
        return real_apply(*args, **kwargs)

    def erase_when_inside(*, player: Player, actor: object) -> bool:
        assert inside.wait(10)
        return real_erase(player=player, actor=None)

    monkeypatch.setattr(processing, "_apply", slow_apply)
    monkeypatch.setattr(erasure_races, "erase_player", erase_when_inside)

    def process() -> int:
        process_event(event_pk=waiting.pk)
        return 200

    assert erasure_races.race_with_erasure(process, player) == (200, True)

    waiting.refresh_from_db()
    assert waiting.status == ProviderEvent.Status.PROCESSED
    assert waiting.payload == {}
