"""Concurrent purchases against PostgreSQL: row locks and the unique key decide, not luck."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from apps.inventory.models import LedgerEntry, Wallet
from apps.shop.models import Offer, Purchase
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_purchase(player, offer_id: int, key: str, quantity: int = 1) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(user=player)
    try:
        response = client.post(
            "/api/v1/shop/purchase",
            {"offer_id": offer_id, "quantity": quantity},
            HTTP_IDEMPOTENCY_KEY=key,
        )
        return response.status_code, response.json()
    finally:
        connection.close()


def test_fifty_concurrent_purchases_with_funds_for_ten_succeed_exactly_ten(player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)  # ten purchases at 100 gold

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: post_purchase(player, offer.pk, f"k{n}"), range(50)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 40
    assert {body["code"] for status, body in results if status == 409} == {"insufficient_funds"}
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 0
    assert Wallet.objects.get(player=player, currency__code="gems").balance == 100
    assert Purchase.objects.filter(status="completed").count() == 10
    for wallet in Wallet.objects.filter(player=player):
        ledger = LedgerEntry.objects.filter(player=player, currency=wallet.currency)
        assert ledger.aggregate(t=Sum("delta"))["t"] == wallet.balance
        assert min(ledger.values_list("balance_after", flat=True)) >= 0
    call_command("audit_ledger")


def test_same_key_twenty_times_at_once_is_one_purchase(player, game):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda n: post_purchase(player, offer.pk, "same"), range(20)))

    assert {status for status, _ in results} == {201}
    assert len({body["purchase_id"] for _, body in results}) == 1
    assert Purchase.objects.count() == 1
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 900


def test_concurrent_purchases_never_pass_the_per_player_limit(player, game):
    make_economy(game)
    offer = make_offer(game, per_player_limit=3)
    fund(player, 10_000)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: post_purchase(player, offer.pk, f"k{n}"), range(10)))

    assert sorted(status for status, _ in results) == [201] * 3 + [409] * 7
    assert Purchase.objects.filter(status="completed").count() == 3


def test_concurrent_buyers_never_oversell_stock(player, game):
    make_economy(game)
    offer = make_offer(game, stock=4)
    fund(player, 10_000)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: post_purchase(player, offer.pk, f"k{n}"), range(10)))

    assert sorted(status for status, _ in results) == [201] * 4 + [409] * 6
    assert Offer.objects.get(pk=offer.pk).stock == 0
