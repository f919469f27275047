"""apply_changes / change_balance / claw_back: one ledger entry per change, all or nothing."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from apps.accounts.models import Player
from apps.inventory.errors import (
    HoldingLimitReached,
    InsufficientFunds,
    UnknownCurrency,
    UnknownItem,
)
from apps.inventory.models import Currency, LedgerEntry, PlayerItem, Wallet
from apps.inventory.services import (
    Change,
    apply_changes,
    change_balance,
    claw_back,
    prepare_holdings,
)
from tests.shop.helpers import balance, make_economy


@pytest.fixture
def economy(game):
    make_economy(game)


def test_change_writes_balance_and_one_ledger_entry(player, economy):
    entry = change_balance(
        player=player,
        currency="gold",
        delta=70,
        reason="quest",
        idempotency_key="q1",
        reference="r",
    )

    assert balance(player, "gold") == 70
    assert (entry.delta, entry.balance_after, entry.reason, entry.reference) == (
        70,
        70,
        "quest",
        "r",
    )
    assert LedgerEntry.objects.filter(player=player).count() == 1


def test_same_key_twice_changes_once_and_returns_first_entries(player, economy):
    first = change_balance(player=player, currency="gold", delta=5, reason="t", idempotency_key="k")
    again = change_balance(player=player, currency="gold", delta=5, reason="t", idempotency_key="k")

    assert balance(player, "gold") == 5
    assert again.pk == first.pk
    assert LedgerEntry.objects.count() == 1


def test_overspend_is_insufficient_funds_and_changes_nothing(player, economy):
    change_balance(player=player, currency="gold", delta=10, reason="t", idempotency_key="seed")

    with pytest.raises(InsufficientFunds):
        apply_changes(
            player=player,
            changes=[Change("item", "potion", 1), Change("currency", "gold", -11)],
            reason="buy",
            idempotency_key="buy",
        )

    assert balance(player, "gold") == 10
    assert not PlayerItem.objects.filter(player=player, quantity__gt=0).exists()
    assert LedgerEntry.objects.count() == 1


def test_cap_and_durable_limits_are_holding_limit_reached(player, economy):
    with pytest.raises(HoldingLimitReached):
        change_balance(
            player=player, currency="gems", delta=100_001, reason="t", idempotency_key="a"
        )
    apply_changes(
        player=player, changes=[Change("item", "sword", 1)], reason="t", idempotency_key="b"
    )
    with pytest.raises(HoldingLimitReached):
        apply_changes(
            player=player, changes=[Change("item", "sword", 1)], reason="t", idempotency_key="c"
        )

    assert balance(player, "gems") == 0
    assert PlayerItem.objects.get(player=player, item__sku="sword").quantity == 1


def test_unknown_or_other_games_codes_are_refused(player, other_game, economy):
    make_economy(other_game)
    with pytest.raises(UnknownCurrency):
        change_balance(player=player, currency="silver", delta=1, reason="t", idempotency_key="a")
    with pytest.raises(UnknownItem):
        apply_changes(
            player=player, changes=[Change("item", "axe", 1)], reason="t", idempotency_key="b"
        )

    assert not Wallet.objects.filter(player=player).exists()
    assert LedgerEntry.objects.count() == 0


def test_prepared_wallets_copy_the_cap_and_leave_existing_ones_alone(game, player, economy):
    other = Player.objects.create(game=game, display_name="bob")
    change_balance(player=player, currency="gold", delta=40, reason="t", idempotency_key="k")
    changes = [Change("currency", "gold", 1), Change("currency", "gems", 1)]

    prepare_holdings(players=[player, other], changes=changes)
    prepare_holdings(players=[player, other], changes=changes)  # again: nothing more

    wallets = Wallet.objects.order_by("player_id", "currency__code")
    assert [(w.player_id, w.currency.code, w.balance, w.cap) for w in wallets] == [
        (player.pk, "gems", 0, 100_000),
        (player.pk, "gold", 40, None),
        (other.pk, "gems", 0, 100_000),
        (other.pk, "gold", 0, None),
    ]


def test_preparing_an_unknown_currency_makes_no_wallet(player, other_game, economy):
    make_economy(other_game)
    Currency.objects.create(game=other_game, code="silver", name="Silver")

    with pytest.raises(UnknownCurrency, match="silver"):
        prepare_holdings(
            players=[player],
            changes=[Change("currency", "gold", 1), Change("currency", "silver", 1)],
        )

    assert not Wallet.objects.filter(player=player).exists()


def test_claw_back_takes_what_is_left_and_reports_the_rest(player, economy):
    change_balance(player=player, currency="gems", delta=30, reason="t", idempotency_key="seed")

    result = claw_back(
        player=player,
        changes=[Change("currency", "gems", -50), Change("item", "potion", -2)],
        reason="refund",
        idempotency_key="refund:1",
    )

    assert balance(player, "gems") == 0
    assert [(e.delta, e.balance_after) for e in result.entries] == [(-30, 0)]
    assert result.shortfall == [
        {"currency": "gems", "quantity": 20},
        {"sku": "potion", "quantity": 2},
    ]


def test_database_refuses_a_negative_balance_even_past_the_service(player, economy):
    change_balance(player=player, currency="gold", delta=1, reason="t", idempotency_key="seed")

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(player=player).update(balance=-1)


def test_ledger_entries_are_append_only(player, economy):
    entry = change_balance(player=player, currency="gold", delta=1, reason="t", idempotency_key="a")

    entry.delta = 100
    with pytest.raises(ValueError):
        entry.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_spends_never_overdraw(player, economy):
    change_balance(player=player, currency="gold", delta=100, reason="seed", idempotency_key="seed")

    def spend(n: int) -> None:
        with suppress(InsufficientFunds):
            change_balance(
                player=player, currency="gold", delta=-30, reason="t", idempotency_key=f"spend-{n}"
            )
        connection.close()

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(spend, range(10)))

    wallet = Wallet.objects.get(player=player, currency__code="gold")
    assert wallet.balance == 10
    assert LedgerEntry.objects.filter(player=player).aggregate(t=Sum("delta"))["t"] == 10
