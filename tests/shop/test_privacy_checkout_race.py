"""An erasure landing while a real-money purchase opens its checkout (docs/guide/privacy.md): the
purchase and its payment committed, then the processor is called outside any transaction, then
the link is stored on the payment and in the answer its Idempotency-Key keeps. No checkout link
of the erased player is left stored, whichever step the erasure falls between."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.payments.models import Payment
from apps.payments.services import checkout
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


def _buy_with_erasure(player: Player, offer: Any, *, after_opening: bool) -> Any:
    """purchase_offer, the player erased just before (or just after) the checkout opens."""
    open_checkout = checkout.open_checkout

    def erasing(**kwargs: Any) -> Payment:
        if not after_opening:
            erase_player(player=Player.objects.get(pk=player.pk), actor=None)
        payment = open_checkout(**kwargs)
        if after_opening:
            erase_player(player=Player.objects.get(pk=player.pk), actor=None)
        return payment

    with mock.patch.object(checkout, "open_checkout", erasing):
        return purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k1")


def test_erasure_before_the_checkout_opens_closes_it(
    player, real_offer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = _buy_with_erasure(player, real_offer, after_opening=False)

    # Refused: nobody holds a checkout of the erased player, nor could pay one.
    assert (result.status_code, result.body["code"]) == (503, "payment_provider_unavailable")
    payment = Payment.objects.get()
    assert payment.checkout_url == ""
    assert payment.status == Payment.Status.FAILED
    purchase = Purchase.objects.get()
    assert purchase.status != Purchase.Status.PENDING
    assert "panel.test" not in str(purchase.response_body)


def test_erasure_after_the_checkout_opened_keeps_no_link(
    player, real_offer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = _buy_with_erasure(player, real_offer, after_opening=True)

    # The request under way answers what it opened; nothing stored keeps the link.
    assert result.status_code == 202
    assert Payment.objects.get().checkout_url == ""
    stored = Purchase.objects.get()
    assert stored.response_status == 202
    assert stored.response_body == {
        **result.body,
        "payment": {**result.body["payment"], "checkout_url": ""},
    }
