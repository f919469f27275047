"""Concurrent purchases against PostgreSQL, over HTTP with real access tokens: row locks and the
unique keys decide, not luck. Every purchase takes the one Python path (purchase_offer and the
inventory's shared ledger write)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from apps.accounts.models import Player
from apps.inventory.models import LedgerEntry, PlayerItem, Wallet
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from tests.shop.conftest import access_token, bearer
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def token(player) -> str:
    return access_token(player)


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


def assert_ledger_matches_balances(player: Player) -> None:
    for wallet in Wallet.objects.filter(player=player):
        ledger = LedgerEntry.objects.filter(player=player, currency=wallet.currency)
        assert ledger.aggregate(t=Sum("delta"))["t"] == wallet.balance
        assert min(ledger.values_list("balance_after", flat=True)) >= 0
    for holding in PlayerItem.objects.filter(player=player):
        ledger = LedgerEntry.objects.filter(player=player, item=holding.item)
        assert ledger.aggregate(t=Sum("delta"))["t"] == holding.quantity
    call_command("audit_ledger")  # exits non-zero on any disagreement


def test_fifty_concurrent_purchases_with_funds_for_ten_succeed_exactly_ten(player, game, token):
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
    # The forty refusals are stored (so their keys replay them) and moved nothing.
    assert Purchase.objects.filter(status="failed", note="insufficient_funds").count() == 40
    assert LedgerEntry.objects.filter(reason="purchase").count() == 20  # debit + grant, x10
    assert_ledger_matches_balances(player)


def test_a_bundle_bought_concurrently_keeps_wallets_holdings_and_ledger_in_step(
    player, game, token
):
    make_economy(game)
    offer = make_offer(
        game,
        price_amount=10,
        contents=[{"currency": "gems", "quantity": 1}, {"sku": "potion", "quantity": 1}],
    )
    fund(player, 300)  # thirty purchases; the potion's stack limit (99) is not reached

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"b{n}"), range(40)))

    assert sorted(status for status, _ in results) == [201] * 30 + [409] * 10
    assert PlayerItem.objects.get(player=player, item__sku="potion").quantity == 30
    assert Wallet.objects.get(player=player, currency__code="gems").balance == 30
    assert LedgerEntry.objects.filter(reason="purchase").count() == 90
    assert_ledger_matches_balances(player)


def test_same_key_twenty_times_at_once_is_one_purchase(player, game, token):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 1000)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, "same"), range(20)))

    assert {status for status, _ in results} == {201}
    assert len({body["purchase_id"] for _, body in results}) == 1
    assert {body["balances"]["gold"] for _, body in results} == {900}
    assert Purchase.objects.count() == 1
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 900
    assert LedgerEntry.objects.filter(reason="purchase").count() == 2
    assert_ledger_matches_balances(player)


def test_concurrent_purchases_never_pass_the_per_player_limit(player, game, token):
    make_economy(game)
    offer = make_offer(game, per_player_limit=3)
    fund(player, 10_000)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"k{n}"), range(10)))

    assert sorted(status for status, _ in results) == [201] * 3 + [409] * 7
    assert {body["code"] for status, body in results if status == 409} == {"purchase_limit_reached"}
    assert Purchase.objects.filter(status="completed").count() == 3
    assert OfferPurchaseCount.objects.get(player=player, offer=offer).count == 3
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 10_000 - 300
    assert_ledger_matches_balances(player)


def test_concurrent_buyers_never_oversell_stock(player, game, token):
    make_economy(game)
    offer = make_offer(game, stock=4)
    fund(player, 10_000)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"k{n}"), range(10)))

    assert sorted(status for status, _ in results) == [201] * 4 + [409] * 6
    assert {body["code"] for status, body in results if status == 409} == {"offer_unavailable"}
    assert Offer.objects.get(pk=offer.pk).stock == 0
    assert Purchase.objects.filter(status="completed").count() == 4
    assert_ledger_matches_balances(player)


def test_concurrent_purchases_of_one_premium_pass_charge_once(player, game, token):
    from datetime import timedelta

    from django.utils import timezone

    from apps.battlepass.models import Season, SeasonPass

    make_economy(game)
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)
    )
    # The player already plays the season (a free pass row, which nobody has to insert), and the
    # offer has no per-player limit: the pass row's lock alone must refuse all but one.
    SeasonPass.objects.create(player=player, season=season, xp=10)
    offer = make_offer(game, contents=[{"battlepass_premium": season.pk}])
    fund(player, 1000)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: post_purchase(token, offer.pk, f"p{n}"), range(8)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 7
    assert {body["code"] for status, body in results if status == 409} == {"purchase_limit_reached"}
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 900
    assert SeasonPass.objects.get(player=player, season=season).premium is True
    assert_ledger_matches_balances(player)
