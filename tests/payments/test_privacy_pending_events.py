"""A processor's notification about an erased player's payment that was not processed when the
erasure ran (failed: its retries ran out; received: still queued; unmatched: a refund that
outran the payment's news) keeps only what processing reads of its payload: the buyer's name,
e-mail or address go, the money still moves when it is processed again (the sweeper, the
processor sending it again), and then the rest goes. One whose payload cannot be cut down so is
cleared and never processed, and says so (apps/payments/privacy.py)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.payments import privacy
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import apple, google_play, stripe
from apps.payments.providers.base import Outcome
from apps.payments.services import processing
from apps.payments.services.processing import process_event
from apps.shop.models import Purchase
from tests.accounts import erasure_races
from tests.payments.conftest import post_stripe
from tests.payments.test_privacy_review_payments import BUYER, refund
from tests.payments.test_stripe import completed, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(api_client, player_client, player, real_offer, checkout, stripe_account) -> int:
    """One paid Stripe purchase (payment intent pi_1)."""
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))
    assert Purchase.objects.get(pk=purchase_id).status == Purchase.Status.COMPLETED
    return purchase_id


def stored(game, body: bytes, **given: Any) -> ProviderEvent:
    """A notification as the webhook stored it, then left as `given` says."""
    payload = json.loads(body)
    return ProviderEvent.objects.create(
        game=game,
        provider="stripe",
        event_id=payload["id"],
        event_type=payload["type"],
        payload=payload,
        **given,
    )


def failed(game, body: bytes, **given: Any) -> ProviderEvent:
    return stored(
        game,
        body,
        status=ProviderEvent.Status.FAILED,
        outcome="OperationalError: could not connect to server",
        attempts=9,
        **given,
    )


def test_a_failed_refund_keeps_only_what_processing_reads(sold, player: Player, game):
    event = failed(game, refund())

    assert erase_player(player=player, actor=None) is True

    event.refresh_from_db()
    # The charge, its payment intent and that it was refunded: not who paid.
    assert event.payload == {
        "data": {"object": {"id": "ch_1", "payment_intent": "pi_1", "refunded": True}}
    }
    assert event.status == ProviderEvent.Status.FAILED  # still to be processed
    assert event.event_id == "evt_r"


def test_a_failed_refund_still_refunds_when_the_sweeper_processes_it_again(
    sold, player: Player, game
):
    event = failed(game, refund())
    erase_player(player=player, actor=None)

    process_event(event_pk=event.pk)

    event.refresh_from_db()
    assert event.status == ProviderEvent.Status.PROCESSED
    assert event.outcome.startswith("refund")
    assert event.payload == {}  # processed for an erased buyer: the rest goes too
    assert Payment.objects.get(purchase_id=sold).status == Payment.Status.REFUNDED
    assert Purchase.objects.get(pk=sold).status == Purchase.Status.REFUNDED


def test_a_given_up_refund_sent_again_by_the_processor_still_refunds(
    sold, player: Player, game, api_client
):
    failed(game, refund(), needs_attention=True, sweeps=5)
    erase_player(player=player, actor=None)

    assert post_stripe(api_client, refund()).status_code == 200  # Stripe retries its delivery

    event = ProviderEvent.objects.get(event_id="evt_r")
    assert (event.status, event.payload) == (ProviderEvent.Status.PROCESSED, {})
    assert Purchase.objects.get(pk=sold).status == Purchase.Status.REFUNDED


def test_a_queued_payment_keeps_only_what_processing_reads_and_is_flagged_once_paid(
    api_client, player_client, player: Player, real_offer, checkout, stripe_account, game
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    body = json.loads(completed(purchase_id=purchase_id))
    body["data"]["object"]["customer_details"] = BUYER
    waiting = stored(game, json.dumps(body).encode())

    erase_player(player=player, actor=None)

    waiting.refresh_from_db()
    assert waiting.status == ProviderEvent.Status.RECEIVED
    assert "customer_details" not in waiting.payload["data"]["object"]
    assert waiting.payload["data"]["object"]["amount_total"] == 199
    process_event(event_pk=waiting.pk)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.payload) == (ProviderEvent.Status.PROCESSED, {})
    assert Payment.objects.get(purchase_id=purchase_id).status == Payment.Status.SUCCEEDED
    # Paid after the erasure: nothing granted, flagged for a refund at the processor.
    purchase = Purchase.objects.get(pk=purchase_id)
    assert purchase.status != Purchase.Status.COMPLETED
    assert "Paid but not granted" in purchase.note


def test_an_unmatched_refund_of_the_players_payment_keeps_only_its_ids(sold, player: Player, game):
    event = stored(game, refund(), status=ProviderEvent.Status.UNMATCHED, reference="pi_1")

    erase_player(player=player, actor=None)

    event.refresh_from_db()
    assert "billing_details" not in event.payload["data"]["object"]
    assert event.payload["data"]["object"]["payment_intent"] == "pi_1"


def test_another_payments_failed_notification_is_left_as_it_is(sold, player: Player, game):
    body = json.loads(refund(event_id="evt_other"))
    body["data"]["object"]["payment_intent"] = "pi_someone_else"
    other = failed(game, json.dumps(body).encode())

    erase_player(player=player, actor=None)

    other.refresh_from_db()
    assert other.payload == body
    assert other.status == ProviderEvent.Status.FAILED


def test_a_payload_that_cannot_be_cut_down_is_cleared_and_says_so(
    sold, player: Player, game, api_client, monkeypatch: pytest.MonkeyPatch
):
    """An interpreter reading the payload whole (here: into its note) cannot be given a part of
    it: the event is cleared, never processed, and tells the operator what to do."""

    def reads_it_whole(event_type: str, payload: dict[str, Any]) -> Outcome:
        obj = payload["data"]["object"]
        return Outcome("refund", payment_reference=obj["payment_intent"], note=json.dumps(obj))

    monkeypatch.setitem(processing.INTERPRETERS, "stripe", reads_it_whole)
    event = failed(game, refund())

    erase_player(player=player, actor=None)

    event.refresh_from_db()
    assert event.payload == {}
    assert (event.status, event.needs_attention) == (ProviderEvent.Status.IGNORED, True)
    assert event.outcome == privacy.PAYLOAD_ERASED[:200]
    assert "erased" in event.outcome and "processor" in event.outcome
    # Nothing processes it with an empty payload: not the sweeper, not a redelivery.
    process_event(event_pk=event.pk)
    assert post_stripe(api_client, refund()).status_code == 200
    event.refresh_from_db()
    assert (event.status, event.outcome) == (ProviderEvent.Status.IGNORED, privacy.PAYLOAD_ERASED)
    assert Payment.objects.get(purchase_id=sold).status == Payment.Status.SUCCEEDED


# The part each provider's interpreter reads, on payloads shaped as they arrive.


def test_stripe_keeps_the_ids_status_and_amounts():
    payload = json.loads(completed(purchase_id=7))
    payload["data"]["object"]["customer_details"] = BUYER

    needed = privacy.needed_payload(stripe.interpret, payload["type"], payload)

    assert needed is not None and "customer_details" not in needed["data"]["object"]
    assert stripe.interpret(payload["type"], needed) == stripe.interpret(payload["type"], payload)


def test_apple_keeps_the_transaction_id_only():
    payload = {
        "signedPayload": "eyJhbGciOiJFUzI1NiJ9.e30.sig",
        "decoded": {
            "notificationType": "REFUND",
            "data": {
                "bundleId": "com.example.game",
                "transactionInfo": {
                    "transactionId": "2000000123",
                    "appAccountToken": "0f5a7c1e-0000-4000-8000-000000000012",
                    "productId": "gems",
                },
            },
        },
    }

    needed = privacy.needed_payload(apple.interpret, "REFUND", payload)

    assert needed == {"decoded": {"data": {"transactionInfo": {"transactionId": "2000000123"}}}}


def test_google_play_keeps_the_confirmed_purchase_only():
    payload = {
        "message": {"data": "eyJ2ZXJzaW9uIjoiMS4wIn0=", "messageId": "m1"},
        "decoded": {
            "packageName": "com.example.game",
            "voidedPurchaseNotification": {
                "purchaseToken": "tok",
                "orderId": "GPA.1",
                "refundType": 1,
            },
        },
        "confirmation": {
            "voided": True,
            "voidedPurchase": {"purchaseToken": "tok", "orderId": "GPA.1", "kind": "x"},
        },
    }
    event_type = "voidedPurchaseNotification"

    needed = privacy.needed_payload(google_play.interpret, event_type, payload)

    assert needed is not None and "message" not in needed
    assert "packageName" not in needed["decoded"]
    assert google_play.interpret(event_type, needed) == google_play.interpret(event_type, payload)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_event_being_processed_again_while_the_erasure_runs(
    sold, player: Player, game, monkeypatch: pytest.MonkeyPatch
):
    """The worst order, forced: the sweeper's retry holds the event and has not reached the
    buyer's row when the erasure takes it. The erasure must not wait for the event (the retry
    waits for the erasure: neither would move); the retry then finishes, sees the buyer erased,
    refunds and clears the payload."""
    event = failed(game, refund())
    inside = threading.Event()
    real_buyer_erased, real_erase = processing._buyer_erased, erasure_races.erase_player

    def slow_buyer_erased(payment: Payment) -> bool:
        inside.set()
        time.sleep(0.5)  # the erasure runs now, holding the buyer's row
        return real_buyer_erased(payment)

    def erase_when_inside(*, player: Player, actor: object) -> bool:
        assert inside.wait(10)
        return real_erase(player=player, actor=None)

    monkeypatch.setattr(processing, "_buyer_erased", slow_buyer_erased)
    monkeypatch.setattr(erasure_races, "erase_player", erase_when_inside)

    def process() -> int:
        process_event(event_pk=event.pk)
        return 200

    assert erasure_races.race_with_erasure(process, player) == (200, True)

    event.refresh_from_db()
    assert (event.status, event.payload) == (ProviderEvent.Status.PROCESSED, {})
    assert Payment.objects.get(purchase_id=sold).status == Payment.Status.REFUNDED
