"""A processor's notification about an erased buyer's payment that arrives after the erasure and
then fails for good (its retries ran out) keeps only what processing reads of its payload, as
one pending when the erasure ran does (apps/payments/privacy.py): the buyer's name, e-mail or
address go; the money still moves when it is processed again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.payments import privacy, tasks
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers.base import Outcome
from apps.payments.services import processing
from apps.shop.models import Purchase
from tests.payments.test_privacy_pending_events import sold, stored
from tests.payments.test_privacy_review_payments import BUYER, refund

pytestmark = pytest.mark.django_db

__all__ = ["sold"]  # the fixture


def fail_for_good(event: ProviderEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    """The event's task, on its last retry, failing as the database did."""

    def down(*, event_pk: int) -> ProviderEvent:
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as patched, pytest.raises(OperationalError):
        patched.setattr(processing, "process_event", down)
        tasks.process_provider_event.apply(args=[event.pk], retries=tasks.RETRY["max_retries"])


def test_a_refund_that_came_after_the_erasure_and_failed_keeps_only_what_processing_reads(
    sold, player: Player, game, monkeypatch
):
    assert erase_player(player=player, actor=None) is True
    event = stored(game, refund())  # Stripe's refund, with the buyer's billing details
    assert event.payload["data"]["object"]["billing_details"] == BUYER

    fail_for_good(event, monkeypatch)

    event.refresh_from_db()
    assert event.status == ProviderEvent.Status.FAILED
    assert event.outcome == "OperationalError: could not connect to server"
    assert event.payload == {
        "data": {"object": {"id": "ch_1", "payment_intent": "pi_1", "refunded": True}}
    }
    # Still processed again (the sweeper), and then the rest goes.
    processing.process_event(event_pk=event.pk)
    event.refresh_from_db()
    assert (event.status, event.payload) == (ProviderEvent.Status.PROCESSED, {})
    assert Payment.objects.get(purchase_id=sold).status == Payment.Status.REFUNDED
    assert Purchase.objects.get(pk=sold).status == Purchase.Status.REFUNDED


def test_one_that_cannot_be_cut_down_is_cleared_and_says_so(
    sold, player: Player, game, monkeypatch
):
    def reads_it_whole(event_type: str, payload: dict[str, Any]) -> Outcome:
        obj = payload["data"]["object"]
        return Outcome("refund", payment_reference=obj["payment_intent"], note=json.dumps(obj))

    erase_player(player=player, actor=None)
    event = stored(game, refund())
    monkeypatch.setitem(processing.INTERPRETERS, "stripe", reads_it_whole)

    fail_for_good(event, monkeypatch)

    event.refresh_from_db()
    assert event.payload == {}
    assert (event.status, event.needs_attention) == (ProviderEvent.Status.IGNORED, True)
    assert event.outcome == privacy.PAYLOAD_ERASED[:200]


def test_a_buyer_not_erased_keeps_the_whole_payload_to_look_at(sold, game, monkeypatch):
    event = stored(game, refund())

    fail_for_good(event, monkeypatch)

    event.refresh_from_db()
    assert event.status == ProviderEvent.Status.FAILED
    assert event.payload == json.loads(refund())
