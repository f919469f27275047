"""The offer rules live in one place (apps/shop/services/rules.py): a rule added there is obeyed
by every purchase and by the catalogue, and each rule's refusal reaches the client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import LedgerEntry
from apps.shop.errors import ContentsUnavailable, OfferUnavailable
from apps.shop.models import Category, Purchase
from apps.shop.services import rules
from apps.shop.services.purchase import record_store_purchase
from gamingpanel.errors import DomainError
from tests.shop.conftest import access_token, bearer
from tests.shop.helpers import balance, fund, make_economy, make_offer

HIDDEN = "#hidden"


def hidden_offer(sale: rules.Sale) -> DomainError | None:
    """The rule a new engineer adds: an offer flagged hidden cannot be bought."""
    if HIDDEN in sale.offer.description:
        return OfferUnavailable("This offer is hidden.", reason="hidden")
    return None


@pytest.mark.postgres
def test_a_rule_added_in_the_one_place_refuses_the_purchase_over_http(monkeypatch, player, game):
    monkeypatch.setattr(rules, "OFFER_RULES", [*rules.OFFER_RULES, hidden_offer])
    make_economy(game)
    hidden = make_offer(game, name="Secret", description=f"staff only {HIDDEN}")
    visible = make_offer(game, name="Open")
    fund(player, 1000)
    client = bearer(access_token(player))  # a real token: the whole pipeline, as clients call

    refused = client.post(
        "/api/v1/shop/purchase", {"offer_id": hidden.pk}, HTTP_IDEMPOTENCY_KEY="h"
    )
    sold = client.post("/api/v1/shop/purchase", {"offer_id": visible.pk}, HTTP_IDEMPOTENCY_KEY="v")
    listed = client.get("/api/v1/shop/categories").json()

    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["reason"]) == ("offer_unavailable", "hidden")
    assert sold.status_code == 201
    assert balance(player, "gold") == 900  # the visible offer's price only
    assert balance(player, "gems") == 10
    assert Purchase.objects.get(offer=hidden).status == "failed"  # stored so the key replays it
    assert not Purchase.objects.filter(offer=hidden, status="completed").exists()
    assert not LedgerEntry.objects.filter(
        reason="purchase",
        reference__in=[f"purchase:{p.pk}" for p in Purchase.objects.filter(offer=hidden)],
    ).exists()
    assert [o["id"] for c in listed for o in c["offers"]] == [visible.pk]


def test_an_offer_with_a_line_nobody_can_grant_is_503_contents_unavailable(
    buyer_client, player, game
):
    make_economy(game)
    # Saved without the admin's validation (as a script or an old row might): the "skin" line
    # has no grant, so selling it would take the price and give part of the offer.
    offer = make_offer(
        game, contents=[{"currency": "gems", "quantity": 10}, {"skin": "red", "quantity": 1}]
    )
    fund(player, 1000)

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )
    listed = buyer_client.get("/api/v1/shop/categories").json()

    assert response.status_code == 503
    assert response.json()["code"] == "contents_unavailable"
    assert balance(player, "gold") == 1000
    assert balance(player, "gems") == 0
    assert not Purchase.objects.filter(status="completed").exists()
    assert listed == []


@pytest.mark.parametrize(
    "contents",
    [
        [{"currency": "gold", "quantity": 10}, {"sku": "potion"}],  # no quantity
        [{"currency": "gold", "quantity": 10}, "potion"],  # not an object
        {"currency": "gold", "quantity": 10},  # not a list
        [{"currency": "gold", "quantity": "10"}],  # text: bought 3 times it was "101010"
        [{"currency": "gold", "quantity": 2.5}],
        [{"currency": "gold", "quantity": True}],
        [{"currency": "gold", "quantity": -10}],
        [],  # paid for, and nothing granted
    ],
    ids=[
        "no quantity",
        "not an object",
        "not a list",
        "text",
        "fraction",
        "boolean",
        "negative",
        "no line",
    ],
)
@pytest.mark.parametrize("real_money", [False, True], ids=["virtual", "real money"])
def test_an_offer_whose_lines_cannot_be_counted_is_503_contents_unavailable(
    buyer_client, player, game, contents, real_money
):
    make_economy(game)
    # Saved without the admin's validation (a script, an old row): the purchase builds what it
    # buys from these lines before the rules are asked, which answered a 500 (or, for a text
    # quantity, multiplied the text: 3 units of "10" gold asked the ledger for 101010 gold).
    price = (
        {"real_money": True, "price_currency": "USD", "price_amount": 199}
        if real_money
        else {"price_currency": "gems", "price_amount": 10}
    )
    offer = make_offer(game, contents=contents, **price)
    fund(player, 1000, currency="gems")

    response = buyer_client.post(
        "/api/v1/shop/purchase",
        {"offer_id": offer.pk, "quantity": 3},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    listed = buyer_client.get("/api/v1/shop/categories").json()

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "contents_unavailable"
    assert balance(player, "gems") == 1000 and balance(player, "gold") == 0
    assert not Purchase.objects.exists()  # nothing stored against the key, nothing reserved
    assert listed == []


@pytest.mark.parametrize(
    "contents",
    [[{"currency": "gold"}], [{"skin": "red", "quantity": 1}], []],
    ids=["uncounted", "another-kind", "no line"],
)
def test_a_store_purchase_of_an_offer_whose_lines_cannot_be_granted_records_nothing(
    player, game, contents
):
    """A receipt skips the offer rules (the store has charged), but not what a line can grant:
    a line of another kind was recorded, and the purchase completed without granting it."""
    make_economy(game)
    offer = make_offer(
        game, real_money=True, price_currency="USD", price_amount=199, contents=contents
    )

    with pytest.raises(ContentsUnavailable):
        record_store_purchase(player=player, offer=offer, provider="apple", key="apple:1")

    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    "category_fields",
    [
        {"active": False},
        {"visible_until": timezone.now() - timedelta(minutes=1)},
        {"visible_from": timezone.now() + timedelta(days=1)},
    ],
)
def test_an_offer_in_a_category_the_shop_does_not_show_cannot_be_bought(
    buyer_client, player, game, category_fields
):
    make_economy(game)
    category = Category.objects.create(game=game, name="Closed shelf", **category_fields)
    offer = make_offer(game, name="On a closed shelf", category=category)
    fund(player, 1000)

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "offer_unavailable"
    assert balance(player, "gold") == 1000 and balance(player, "gems") == 0
    assert not Purchase.objects.filter(status="completed").exists()


def test_an_offer_in_no_category_is_judged_by_its_own_window(buyer_client, player, game):
    make_economy(game)
    offer = make_offer(game, name="Direct link", category=None)
    fund(player, 1000)

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 201
    assert balance(player, "gems") == 10
