"""Erasure and the answers purchases' Idempotency-Keys stored (docs/guide/privacy.md): the
checkout link goes, as it goes from the payment; the rest of the answer stays."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.payments.models import Payment
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import make_economy, make_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_offer(game, settings):
    settings.PUBLIC_BASE_URL = "http://panel.test"
    make_economy(game)
    return make_offer(
        game,
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
    )


def buy(player: Player, offer, key: str = "k1"):
    return purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)


def test_erasure_removes_the_checkout_link_from_the_stored_answer(
    player, real_offer, django_capture_on_commit_callbacks
):
    first = buy(player, real_offer)
    assert first.status_code == 202
    assert first.body["payment"]["checkout_url"].startswith("http://panel.test/")

    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=player, actor=None)

    stored = Purchase.objects.get()
    expected = {**first.body, "payment": {**first.body["payment"], "checkout_url": ""}}
    assert stored.response_status == 202
    assert stored.response_body == expected
    assert "panel.test" not in str(stored.response_body)
    # A replay of the key answers the same, without the link (as the payment now has it).
    again = buy(player, real_offer)
    assert (again.status_code, again.body) == (202, expected)
    assert Payment.objects.get().checkout_url == ""


def test_erasure_leaves_other_answers_and_other_players_alone(
    player, game, real_offer, django_capture_on_commit_callbacks
):
    bob = Player.objects.create(game=game, display_name="bob")
    bobs = buy(bob, real_offer).body
    refused = Purchase.objects.create(
        game=game,
        player=player,
        offer=real_offer,
        idempotency_key="k2",
        real_money=True,
        price_currency="USD",
        price_amount=199,
        status=Purchase.Status.FAILED,
        response_status=409,
        response_body={"code": "out_of_stock", "status": 409},
    )

    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=player, actor=None)

    assert Purchase.objects.get(player=bob).response_body == bobs
    assert bobs["payment"]["checkout_url"].startswith("http://panel.test/")
    refused.refresh_from_db()
    assert refused.response_body == {"code": "out_of_stock", "status": 409}
