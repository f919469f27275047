"""A total price no balance can hold (an offer priced before authoring was bounded, times the
quantity) is refused as `insufficient_funds`, with the `needed` and `available` that code
carries everywhere (docs/guide/errors.md), in its first answer and in its key's replay."""

from __future__ import annotations

import pytest

from apps.inventory.models import MAX_AMOUNT
from apps.shop.models import Purchase
from tests.shop.helpers import balance, fund, make_economy, make_offer

pytestmark = pytest.mark.django_db

URL = "/api/v1/shop/purchase"


def test_a_total_past_max_amount_says_what_is_needed_and_available(buyer_client, player, game):
    make_economy(game)
    offer = make_offer(game, price_amount=MAX_AMOUNT)  # legacy: before the authoring bound
    fund(player, 10)

    response = buyer_client.post(
        URL, {"offer_id": offer.pk, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "insufficient_funds"
    assert (body["needed"], body["available"]) == (2 * MAX_AMOUNT, 10)
    assert balance(player, "gold") == 10
    # The key answers the same refusal again, fields included.
    again = buyer_client.post(URL, {"offer_id": offer.pk, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="k")
    assert again.json() == body
    assert Purchase.objects.get().status == Purchase.Status.FAILED


def test_a_real_money_total_past_max_amount_has_nothing_available(buyer_client, player, game):
    make_economy(game)
    offer = make_offer(
        game, real_money=True, price_currency="USD", price_amount=MAX_AMOUNT // 2 + 1
    )

    response = buyer_client.post(
        URL, {"offer_id": offer.pk, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "insufficient_funds"
    assert (body["needed"], body["available"]) == (2 * (MAX_AMOUNT // 2 + 1), 0)
