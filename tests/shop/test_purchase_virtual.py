"""POST shop/purchase with a virtual price: debit and grant at once, once per Idempotency-Key."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.analytics.models import RawEvent
from apps.inventory.models import LedgerEntry, PlayerItem
from apps.shop.models import Offer, Purchase
from apps.shop.services.purchase import request_fingerprint
from tests.conftest import wallet_lock_at
from tests.shop.helpers import balance, fund, make_economy, make_offer

URL = "/api/v1/shop/purchase"


@pytest.fixture
def offer(game):
    make_economy(game)
    return make_offer(game)


def buy(client, offer_id, key="key-1", quantity=1):
    return client.post(URL, {"offer_id": offer_id, "quantity": quantity}, HTTP_IDEMPOTENCY_KEY=key)


def test_virtual_purchase_debits_grants_and_records_the_fact(buyer_client, player, offer):
    fund(player, 250)

    response = buy(buyer_client, offer.pk, quantity=2)

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "purchase_id": body["purchase_id"],
        "status": "completed",
        "balances": {"gold": 50, "gems": 20},
        "granted": [{"currency": "gems", "quantity": 20}],
    }
    purchase = Purchase.objects.get(pk=body["purchase_id"])
    assert (purchase.status, purchase.price_amount, purchase.player) == ("completed", 200, player)
    entries = LedgerEntry.objects.filter(reference=f"purchase:{purchase.pk}")
    assert sorted((e.currency.code, e.delta) for e in entries) == [("gems", 20), ("gold", -200)]
    event = RawEvent.objects.get(name="purchase_completed")
    assert event.properties == {
        "offer_id": offer.pk,
        "purchase_id": purchase.pk,
        "currency": "gold",
        "amount": 200,
        "real_money": False,
    }


def test_the_fact_travels_with_the_wallet_lock(buyer_client, player, offer):
    fund(player, 250)

    with CaptureQueriesContext(connection) as captured:
        assert buy(buyer_client, offer.pk).status_code == 201

    sent = [query["sql"] for query in captured.captured_queries]
    fact = [sql for sql in sent if "analytics_rawevent" in sql]
    assert len(fact) == 1
    if connection.vendor == "postgresql":  # one message: the insert, then the lock
        assert fact[0].index("analytics_rawevent") < wallet_lock_at(fact[0])
    else:  # SQLite runs them one after the other
        assert wallet_lock_at(fact[0]) == -1
    assert RawEvent.objects.filter(name="purchase_completed").count() == 1


def test_the_purchase_row_is_stored_whole(buyer_client, player, offer):
    fund(player, 250)
    before = timezone.now()

    body = buy(buyer_client, offer.pk, key="whole", quantity=2).json()

    stored = Purchase.objects.values().get()
    assert stored == {
        "id": body["purchase_id"],
        "game_id": player.game_id,
        "player_id": player.pk,
        "offer_id": offer.pk,
        "quantity": 2,
        "source": "shop",
        "status": "completed",
        "idempotency_key": "whole",
        "request_hash": request_fingerprint(offer_id=offer.pk, quantity=2),
        "real_money": False,
        "price_currency": "gold",
        "price_amount": 200,
        "provider": "",
        "granted": [{"currency": "gems", "quantity": 20}],
        "bought": [{"currency": "gems", "quantity": 20}],
        "reserved_stock": 0,  # recorded for a purchase that waits for payment
        "reserved_slots": 0,
        "response_status": 201,
        "response_body": None,
        "refund_shortfall": [],
        "needs_attention": False,
        "note": "",
        "outcome": "",
        "created_at": stored["created_at"],
        "completed_at": stored["completed_at"],
        "refunded_at": None,
    }
    assert before <= stored["created_at"] <= timezone.now()
    assert before <= stored["completed_at"] <= timezone.now()


def test_same_key_returns_the_first_response_and_charges_once(buyer_client, player, offer):
    fund(player, 1000)

    first = buy(buyer_client, offer.pk)
    second = buy(buyer_client, offer.pk)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert balance(player, "gold") == 900
    assert Purchase.objects.count() == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(buyer_client, player, offer):
    fund(player, 1000)
    buy(buyer_client, offer.pk, quantity=1)

    response = buy(buyer_client, offer.pk, quantity=3)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert balance(player, "gold") == 900


def test_not_enough_funds_is_409_and_nothing_moves(buyer_client, player, offer):
    fund(player, 99)

    response = buy(buyer_client, offer.pk)
    retried = buy(buyer_client, offer.pk)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_funds"
    assert retried.json() == response.json()  # the key answers its first answer
    assert balance(player, "gold") == 99
    assert balance(player, "gems") == 0
    assert LedgerEntry.objects.filter(reason="purchase").count() == 0
    assert not RawEvent.objects.filter(name="purchase_completed").exists()


@pytest.mark.parametrize("given_back", [60, 100, 150])
def test_the_price_is_covered_by_what_is_held_not_by_what_the_offer_gives_back(
    buyer_client, player, game, given_back
):
    make_economy(game)
    cashback = make_offer(
        game,
        price_amount=100,
        contents=[{"currency": "gold", "quantity": given_back}, {"sku": "potion", "quantity": 1}],
    )
    fund(player, 50)

    refused = buy(buyer_client, cashback.pk)
    fund(player, 100)  # now the 100 gold are there
    bought = buy(buyer_client, cashback.pk, key="key-2")

    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_funds"
    assert refused.json()["needed"] == 100 and refused.json()["available"] == 50
    assert bought.status_code == 201
    assert balance(player, "gold") == 150 - 100 + given_back
    assert PlayerItem.objects.get(player=player, item__sku="potion").quantity == 1


def test_purchase_limit_reached_is_409(buyer_client, player, game, offer):
    fund(player, 1000)
    Offer.objects.filter(pk=offer.pk).update(per_player_limit=2)

    assert buy(buyer_client, offer.pk, "a", quantity=2).status_code == 201
    response = buy(buyer_client, offer.pk, "b")

    assert response.status_code == 409
    assert response.json()["code"] == "purchase_limit_reached"
    assert response.json()["remaining_purchases"] == 0
    assert balance(player, "gold") == 800


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"available_until": timezone.now() - timedelta(minutes=1)},
        {"available_from": timezone.now() + timedelta(days=1)},
        {"stock": 0},
    ],
)
def test_closed_or_sold_out_offer_is_409_offer_unavailable(buyer_client, player, offer, change):
    fund(player, 1000)
    Offer.objects.filter(pk=offer.pk).update(**change)

    response = buy(buyer_client, offer.pk)

    assert response.status_code == 409
    assert response.json()["code"] == "offer_unavailable"
    assert balance(player, "gold") == 1000


def test_stock_is_taken_per_unit(buyer_client, player, offer):
    fund(player, 1000)
    Offer.objects.filter(pk=offer.pk).update(stock=3)

    assert buy(buyer_client, offer.pk, "a", quantity=2).status_code == 201
    response = buy(buyer_client, offer.pk, "b", quantity=2)

    assert response.json()["code"] == "offer_unavailable"
    assert Offer.objects.get(pk=offer.pk).stock == 1


def test_bundle_grants_items_and_currency_together(buyer_client, player, game):
    make_economy(game)
    bundle = make_offer(
        game,
        contents=[{"sku": "sword", "quantity": 1}, {"sku": "potion", "quantity": 5}],
        price_amount=300,
    )
    fund(player, 300)

    response = buy(buyer_client, bundle.pk)
    again = buy(buyer_client, bundle.pk, key="key-2")  # a durable sword is owned once

    assert response.status_code == 201
    held = dict(PlayerItem.objects.filter(player=player).values_list("item__sku", "quantity"))
    assert held == {"sword": 1, "potion": 5}
    assert again.status_code == 409
    assert again.json()["code"] in ("holding_limit_reached", "insufficient_funds")


@pytest.mark.parametrize(
    "headers,body,code",
    [
        ({}, {"offer_id": 1}, "idempotency_key_required"),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, {"offer_id": "x"}, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, {"offer_id": 1, "quantity": 0}, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, {"offer_id": 1, "quantity": "2"}, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k"}, {"offer_id": 1.0}, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k" * 151}, {"offer_id": 1}, "idempotency_key_required"),
        # The one rule of gamingpanel.idempotency, the cloud save's too: printable ASCII.
        ({"HTTP_IDEMPOTENCY_KEY": "clé-1"}, {"offer_id": 1}, "idempotency_key_required"),
        ({"HTTP_IDEMPOTENCY_KEY": " \t "}, {"offer_id": 1}, "idempotency_key_required"),
    ],
)
def test_bad_input_is_400_problem(buyer_client, offer, headers, body, code):
    response = buyer_client.post(URL, body, **headers)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Purchase.objects.count() == 0


def test_another_games_offer_is_404(buyer_client, player, other_game):
    make_economy(other_game)
    foreign = make_offer(other_game)

    response = buy(buyer_client, foreign.pk)

    assert response.status_code == 404
    assert response.json()["code"] == "offer_not_found"
    assert Purchase.objects.count() == 0


def test_malformed_json_is_400(buyer_client, offer):
    response = buyer_client.post(
        URL, data="{nope", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
