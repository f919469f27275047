"""A purchase of more units than a limited offer has left, some left: 409 `offer_unavailable`
with `reason` `not_enough_stock` and how many are left (`remaining_stock`), not `sold_out`,
whether the offer read says so or the stock was taken meanwhile. None left: `sold_out`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.shop.models import Offer, Purchase
from apps.shop.selectors import find_offer_for_sale
from apps.shop.services import purchase as purchase_service
from tests.shop.helpers import balance, fund, make_economy, make_offer

pytestmark = pytest.mark.django_db
URL = "/api/v1/shop/purchase"


@pytest.fixture
def limited(game, player) -> Offer:
    make_economy(game)
    fund(player, 10_000)
    return make_offer(game, stock=3)


def buy(client, offer: Offer, quantity: int, key: str = "k1"):
    return client.post(URL, {"offer_id": offer.pk, "quantity": quantity}, HTTP_IDEMPOTENCY_KEY=key)


def test_more_units_than_are_left_is_not_enough_stock_with_how_many_are(
    buyer_client, player, limited
):
    response = buy(buyer_client, limited, quantity=5)

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["reason"], body["remaining_stock"]) == (
        "offer_unavailable",
        "not_enough_stock",
        3,
    )
    assert "3" in body["detail"]
    assert Offer.objects.get(pk=limited.pk).stock == 3
    assert balance(player, "gold") == 10_000
    # The key answers it again; the quantity left is still for sale.
    assert buy(buyer_client, limited, quantity=5).json() == body
    assert buy(buyer_client, limited, quantity=3, key="k2").status_code == 201


def test_none_left_is_still_sold_out(buyer_client, limited):
    Offer.objects.filter(pk=limited.pk).update(stock=0)

    body = buy(buyer_client, limited, quantity=2).json()

    assert (body["code"], body["reason"]) == ("offer_unavailable", "sold_out")
    assert "remaining_stock" not in body


def test_stock_taken_after_the_read_answers_what_is_left(
    monkeypatch, buyer_client, player, limited
):
    """The offer was read with 3 left; another purchase took 2 before this one's conditional
    UPDATE: refused there, with the 1 left."""

    def read_then_sell_two(*, game_id: int, offer_id: int):
        offer = find_offer_for_sale(game_id=game_id, offer_id=offer_id)
        Offer.objects.filter(pk=offer_id).update(stock=1)
        return offer

    monkeypatch.setattr(purchase_service, "find_offer_for_sale", read_then_sell_two)

    body = buy(buyer_client, limited, quantity=2).json()

    assert (body["code"], body["reason"], body["remaining_stock"]) == (
        "offer_unavailable",
        "not_enough_stock",
        1,
    )
    assert not Purchase.objects.filter(status="completed").exists()
    assert balance(player, "gold") == 10_000


def test_stock_taken_to_none_after_the_read_is_sold_out(monkeypatch, buyer_client, limited):
    def read_then_sell_out(*, game_id: int, offer_id: int):
        offer = find_offer_for_sale(game_id=game_id, offer_id=offer_id)
        Offer.objects.filter(pk=offer_id).update(stock=0)
        return offer

    monkeypatch.setattr(purchase_service, "find_offer_for_sale", read_then_sell_out)

    assert buy(buyer_client, limited, quantity=1).json()["reason"] == "sold_out"


def test_a_purchase_that_takes_stock_sends_no_more_statements(buyer_client, player, limited):
    """How many are left is read only when the UPDATE took nothing."""
    buy(buyer_client, limited, quantity=1, key="warm")  # the wallets exist

    with CaptureQueriesContext(connection) as captured:
        assert buy(buyer_client, limited, quantity=1, key="again").status_code == 201

    sent = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in sent if 'SELECT "shop_offer"."stock"' in sql]
    assert [sql for sql in sent if 'UPDATE "shop_offer"' in sql]  # the stock was taken
