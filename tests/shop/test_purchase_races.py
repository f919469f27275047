"""Concurrent purchases against PostgreSQL: row locks and the unique key decide, not luck.
Made with real access tokens, so each goes through the fast path first (apps/shop/fastpath.py)
and what it does not answer through the Python path, as in production."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from apps.inventory.models import LedgerEntry, Wallet
from apps.shop.models import Offer, Purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.conftest import access_token, bearer
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def token(player) -> str:
    return access_token(player)


@pytest.fixture
def fell_back(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the purchases the fast path handed to the Python path."""
    keys: list[str] = []
    lock = threading.Lock()

    def recorded(**kwargs: Any) -> Any:
        with lock:
            keys.append(kwargs["idempotency_key"])
        return purchase_offer(**kwargs)

    monkeypatch.setattr("apps.shop.api.purchase_offer", recorded)
    return keys


def post_purchase(token: str, offer_id: int, key: str, quantity: int = 1) -> tuple[int, dict]:
    try:
        response = bearer(token).post(
            "/api/v1/shop/purchase",
            {"offer_id": offer_id, "quantity": quantity},
            HTTP_IDEMPOTENCY_KEY=key,
        )
        return response.status_code, response.json()
    finally:
        connection.close()


def test_fifty_concurrent_purchases_with_funds_for_ten_succeed_exactly_ten(
    player, game, token, fell_back
):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)  # ten purchases at 100 gold

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"k{n}"), range(50)))

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
    # The ten purchases were made by the fast path; only the forty refusals fell back.
    assert len(fell_back) == 40
    refused = {f"k{n}" for n, (status, _) in enumerate(results) if status == 409}
    assert set(fell_back) == refused


def test_same_key_twenty_times_at_once_is_one_purchase(player, game, token, fell_back):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, "same"), range(20)))

    assert {status for status, _ in results} == {201}
    assert len({body["purchase_id"] for _, body in results}) == 1
    assert Purchase.objects.count() == 1
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 900
    assert len(fell_back) == 19  # one made it through the fast path; the others replay it


def test_concurrent_purchases_never_pass_the_per_player_limit(player, game, token, fell_back):
    make_economy(game)
    offer = make_offer(game, per_player_limit=3)
    fund(player, 10_000)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"k{n}"), range(10)))

    assert sorted(status for status, _ in results) == [201] * 3 + [409] * 7
    assert Purchase.objects.filter(status="completed").count() == 3
    assert len(fell_back) == 7


def test_concurrent_buyers_never_oversell_stock(player, game, token, fell_back):
    make_economy(game)
    offer = make_offer(game, stock=4)
    fund(player, 10_000)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"k{n}"), range(10)))

    assert sorted(status for status, _ in results) == [201] * 4 + [409] * 6
    assert Offer.objects.get(pk=offer.pk).stock == 0
    assert len(fell_back) == 6
