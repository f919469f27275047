"""A currency's cap and an item's holding limit are copied onto each wallet and holding (so the
database refuses an overfull one); an operator's change in the admin reaches every copy."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.inventory.errors import HoldingLimitReached
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, PlayerItem, Wallet
from apps.inventory.services import (
    Change,
    apply_changes,
    change_balance,
    follow_currency_cap,
    follow_item_limit,
)
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, game):
    user = get_user_model().objects.create_user("olga", password="x", is_staff=True)
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def gain(player, currency: str, amount: int, key: str) -> None:
    change_balance(
        player=player, currency=currency, delta=amount, reason="test", idempotency_key=key
    )


def set_cap(client, currency: Currency, cap: str) -> None:
    response = client.post(
        f"/admin/inventory/currency/{currency.pk}/change/",
        {"game": currency.game_id, "code": currency.code, "name": currency.name, "cap": cap},
    )
    assert response.status_code == 302, response.content[:500]


def test_a_raised_cap_lets_existing_wallets_hold_more(operator_client, game, player):
    gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)
    gain(player, "gold", 1000, "a")

    set_cap(operator_client, gold, "2000")
    gain(player, "gold", 500, "b")

    assert Wallet.objects.get(player=player, currency=gold).balance == 1500


def test_a_lowered_cap_stops_existing_wallets_at_it(operator_client, game, player, other_player):
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    gain(player, "gold", 300, "a")

    set_cap(operator_client, gold, "1000")

    with pytest.raises(HoldingLimitReached):
        gain(player, "gold", 800, "b")
    gain(player, "gold", 700, "c")
    assert Wallet.objects.get(player=player, currency=gold).balance == 1000


def test_a_wallet_above_a_lowered_cap_keeps_it_spends_and_gains_nothing(
    operator_client, game, player
):
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    gain(player, "gold", 1500, "a")

    set_cap(operator_client, gold, "1000")

    with pytest.raises(HoldingLimitReached):
        gain(player, "gold", 1, "b")
    gain(player, "gold", -200, "c")
    wallet = Wallet.objects.get(player=player, currency=gold)
    assert (wallet.balance, wallet.cap) == (1300, 1500)

    # Spent down below the cap, it refills to the cap, never back to what it held before.
    gain(player, "gold", -1200, "d")  # 100
    with pytest.raises(HoldingLimitReached):
        gain(player, "gold", 1400, "e")
    gain(player, "gold", 900, "f")
    assert Wallet.objects.get(player=player, currency=gold).balance == 1000


def test_a_durable_item_held_more_than_once_is_not_granted_again_after_use(
    operator_client, game, player
):
    sword = ItemDefinition.objects.create(
        game=game, sku="sword", name="Sword", kind=ItemDefinition.Kind.STACKABLE, max_stack=None
    )
    apply_changes(
        player=player, changes=[Change("item", "sword", 3)], reason="test", idempotency_key="a"
    )
    response = operator_client.post(
        f"/admin/inventory/itemdefinition/{sword.pk}/change/",
        {"game": game.pk, "sku": "sword", "name": "Sword", "kind": "durable", "max_stack": ""},
    )
    assert response.status_code == 302, response.content[:500]
    apply_changes(
        player=player, changes=[Change("item", "sword", -3)], reason="test", idempotency_key="b"
    )

    with pytest.raises(HoldingLimitReached):
        apply_changes(
            player=player, changes=[Change("item", "sword", 3)], reason="test", idempotency_key="c"
        )
    apply_changes(
        player=player, changes=[Change("item", "sword", 1)], reason="test", idempotency_key="d"
    )
    assert PlayerItem.objects.get(player=player, item=sword).quantity == 1


def test_a_wallet_whose_cap_copy_went_stale_takes_the_currencys_cap(game, player):
    gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)
    gain(player, "gold", 10, "a")
    # A wallet made while the cap was being lowered kept the old cap (its insert committed
    # after the change had updated every wallet it could see).
    Currency.objects.filter(pk=gold.pk).update(cap=100)

    with pytest.raises(HoldingLimitReached):
        gain(player, "gold", 500, "b")
    gain(player, "gold", 90, "c")
    assert Wallet.objects.get(player=player, currency=gold).balance == 100


def test_a_removed_cap_removes_every_copy(operator_client, game, player):
    gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=100)
    gain(player, "gold", 100, "a")

    set_cap(operator_client, gold, "")
    gain(player, "gold", 10**9, "b")

    assert Wallet.objects.get(player=player, currency=gold).cap is None


def test_a_stack_size_or_kind_change_reaches_existing_holdings(operator_client, game, player):
    potion = ItemDefinition.objects.create(
        game=game, sku="potion", name="Potion", kind=ItemDefinition.Kind.STACKABLE, max_stack=5
    )
    apply_changes(
        player=player, changes=[Change("item", "potion", 5)], reason="test", idempotency_key="a"
    )

    response = operator_client.post(
        f"/admin/inventory/itemdefinition/{potion.pk}/change/",
        {
            "game": game.pk,
            "sku": "potion",
            "name": "Potion",
            "kind": "stackable",
            "max_stack": "10",
        },
    )
    assert response.status_code == 302, response.content[:500]
    apply_changes(
        player=player, changes=[Change("item", "potion", 5)], reason="test", idempotency_key="b"
    )

    holding = PlayerItem.objects.get(player=player, item=potion)
    assert (holding.quantity, holding.limit) == (10, 10)


def test_a_wallet_whose_cap_copy_is_below_a_raised_cap_takes_the_raised_cap(game, player):
    gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=100)
    gain(player, "gold", 10, "a")
    # The copy is left at 100 as a wallet made while the cap was being raised keeps it.
    Currency.objects.filter(pk=gold.pk).update(cap=1000)

    gain(player, "gold", 500, "b")

    wallet = Wallet.objects.get(player=player, currency=gold)
    assert (wallet.balance, wallet.cap) == (510, 1000)


def test_a_holding_whose_limit_copy_is_below_a_removed_stack_size_takes_none(game, player):
    potion = ItemDefinition.objects.create(
        game=game, sku="potion", name="Potion", kind=ItemDefinition.Kind.STACKABLE, max_stack=5
    )
    apply_changes(
        player=player, changes=[Change("item", "potion", 5)], reason="test", idempotency_key="a"
    )
    ItemDefinition.objects.filter(pk=potion.pk).update(max_stack=None)

    apply_changes(
        player=player, changes=[Change("item", "potion", 95)], reason="test", idempotency_key="b"
    )

    holding = PlayerItem.objects.get(player=player, item=potion)
    assert (holding.quantity, holding.limit) == (100, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_wallet_made_while_the_cap_is_raised_can_fill_to_the_new_cap(game, player):
    gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=100)
    made = threading.Event()
    go_on = threading.Event()

    def first_grant_held_open() -> None:
        try:
            with transaction.atomic():
                gain(player, "gold", 50, "first")  # reads cap 100, makes the wallet
                made.set()
                go_on.wait(10)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        grant = pool.submit(first_grant_held_open)
        assert made.wait(10)
        # The operator's change commits while the new wallet is not yet visible to it.
        with transaction.atomic():
            Currency.objects.filter(pk=gold.pk).update(cap=1000)
            gold.refresh_from_db()
            follow_currency_cap(currency=gold)
        go_on.set()
        grant.result()
    assert Wallet.objects.get(player=player, currency=gold).cap == 100  # the stale copy

    gain(player, "gold", 900, "after")

    wallet = Wallet.objects.get(player=player, currency=gold)
    assert (wallet.balance, wallet.cap) == (950, 1000)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["currency", "item"])
def test_a_credit_waiting_on_a_lowered_limit_stops_at_it(game, player, kind):
    """The credit's lock waited for the operator's change (the definition's new limit and
    every copy, one transaction): it locks the copy as changed but read the definition as it
    was when its statement began, and raising the copy to that old limit let it through."""
    if kind == "currency":
        gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)
        code, pk = gold.code, gold.pk
    else:
        potion = ItemDefinition.objects.create(
            game=game, sku="potion", name="Potion", kind="stackable", max_stack=1000
        )
        code, pk = potion.sku, potion.pk
    apply_changes(player=player, changes=[Change(kind, code, 50)], reason="t", idempotency_key="a")

    with transaction.atomic():  # as the admin's save: the definition, then every copy
        if kind == "currency":
            Currency.objects.filter(pk=pk).update(cap=100)
            follow_currency_cap(currency=Currency.objects.get(pk=pk))
        else:
            ItemDefinition.objects.filter(pk=pk).update(max_stack=100)
            follow_item_limit(item=ItemDefinition.objects.get(pk=pk))
        credit = in_thread(
            lambda: apply_changes(
                player=player, changes=[Change(kind, code, 500)], reason="t", idempotency_key="b"
            )
        )
        wait_until_a_statement_waits_for_a_lock()  # the credit, for the copy the change holds

    with pytest.raises(HoldingLimitReached):
        credit.result(15)
    if kind == "currency":
        wallet = Wallet.objects.get(player=player)
        held = (wallet.balance, wallet.cap)
    else:
        holding = PlayerItem.objects.get(player=player)
        held = (holding.quantity, holding.limit)
    assert held == (50, 100)
    assert LedgerEntry.objects.filter(player=player).count() == 1  # the first grant only


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("new_cap", [1000, None])
def test_a_credit_waiting_on_a_raised_cap_fills_to_it(game, player, new_cap):
    """The credit's lock waited for the operator's raise (or removal): it read the old cap, and
    refused a credit the cap committed before its lock allows."""
    gold = Currency.objects.create(game=game, code="gold", name="Gold", cap=100)
    gain(player, "gold", 50, "a")

    with transaction.atomic():  # as the admin's save: the cap, then every wallet
        Currency.objects.filter(pk=gold.pk).update(cap=new_cap)
        follow_currency_cap(currency=Currency.objects.get(pk=gold.pk))
        credit = in_thread(lambda: gain(player, "gold", 500, "b"))
        wait_until_a_statement_waits_for_a_lock()  # the credit, for the wallet the raise holds

    credit.result(15)
    wallet = Wallet.objects.get(player=player, currency=gold)
    assert (wallet.balance, wallet.cap) == (550, new_cap)
