"""A purchase reads its offer as the first statement of its own transaction, FOR KEY SHARE until
it commits, and judges every rule and takes its price from that read. An operator's save (which
reads the offer FOR UPDATE, as the admin does) waits for the purchases under way; a purchase
that comes while a save is under way waits for it and is judged on what it saved, so a price
raised or an offer switched off is never sold under the old values. Purchases do not wait for
each other. Two sessions on PostgreSQL, real locks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.shop.models import Offer, Purchase
from apps.shop.selectors import OFFER_FOR_SALE
from apps.shop.services import purchase as purchase_service
from apps.shop.services.purchase import purchase_offer
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.shop.helpers import balance, fund, make_economy, make_offer


@pytest.fixture
def gem_pack(game, player) -> Offer:
    make_economy(game)
    fund(player, 1000)
    return make_offer(game)  # 100 gold for 10 gems, unlimited stock


def buy(player, offer: Offer, key: str):
    return purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)


def race(test):
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True)(test))


def bought_while_a_save_is_under_way(player, offer: Offer, **saved: Any) -> Callable[[], Any]:
    """An operator's save has read the offer FOR UPDATE and written `saved`, not committed,
    when the purchase starts: the purchase's read waits for it. Answers the purchase's
    outcome (its result, or raises its refusal) once the save has committed."""
    saving, commit = threading.Event(), threading.Event()

    def admin_save() -> None:
        with transaction.atomic():
            Offer.objects.select_for_update().filter(pk=offer.pk).get()
            Offer.objects.filter(pk=offer.pk).update(**saved)
            saving.set()
            commit.wait(10)

    saved_thread = in_thread(admin_save)
    assert saving.wait(10)
    bought = in_thread(lambda: buy(player, offer, "b"))
    try:
        wait_until_a_statement_waits_for_a_lock()
        assert not bought.done()  # the purchase waits for the save
    finally:
        commit.set()
        saved_thread.result(10)
    return lambda: bought.result(10)


@race
def test_a_purchase_waits_for_a_price_raise_under_way_and_pays_the_new_price(player, gem_pack):
    outcome = bought_while_a_save_is_under_way(player, gem_pack, price_amount=300)

    assert outcome().status_code == 201
    assert Purchase.objects.get().price_amount == 300
    assert balance(player, "gold") == 700


@race
def test_a_purchase_waits_for_a_switch_off_under_way_and_is_refused(player, gem_pack):
    outcome = bought_while_a_save_is_under_way(player, gem_pack, active=False)

    with pytest.raises(Exception) as refused:
        outcome()
    assert getattr(refused.value, "code", None) == "offer_unavailable"
    assert balance(player, "gold") == 1000
    assert not Purchase.objects.filter(status="completed").exists()


@race
def test_a_purchase_waits_for_a_window_ended_under_way_and_is_refused(player, gem_pack):
    ended = timezone.now() - timedelta(minutes=1)
    outcome = bought_while_a_save_is_under_way(player, gem_pack, available_until=ended)

    with pytest.raises(Exception) as refused:
        outcome()
    assert getattr(refused.value, "code", None) == "offer_unavailable"
    assert balance(player, "gold") == 1000


@race
def test_an_admin_save_waits_for_a_purchase_under_way(player, gem_pack):
    """The save reads the offer FOR UPDATE (as the admin's save does) while a purchase holds
    it: it waits for the purchase's commit, so the purchase was sold at the price it read and
    the new price counts from then on."""
    holding, finish = threading.Event(), threading.Event()

    def purchase() -> None:
        with transaction.atomic():
            buy(player, gem_pack, "a")
            holding.set()
            finish.wait(10)

    def admin_save() -> None:
        with transaction.atomic():
            Offer.objects.select_for_update().filter(pk=gem_pack.pk).get()
            Offer.objects.filter(pk=gem_pack.pk).update(price_amount=300)

    bought = in_thread(purchase)
    assert holding.wait(10)
    saved = in_thread(admin_save)
    try:
        wait_until_a_statement_waits_for_a_lock()
        assert not saved.done()
    finally:
        finish.set()
        bought.result(10)
        saved.result(10)

    assert Purchase.objects.get().price_amount == 100
    assert Offer.objects.get(pk=gem_pack.pk).price_amount == 300


@race
def test_purchases_of_one_offer_do_not_wait_for_each_other(game, player, gem_pack):
    """One player's purchase holds the offer (uncommitted); another player's purchase of the
    same offer goes through meanwhile."""
    bob = Player.objects.create(game=game, display_name="bob")
    fund(bob, 1000)
    holding, finish = threading.Event(), threading.Event()

    def purchase() -> None:
        with transaction.atomic():
            buy(player, gem_pack, "a")
            holding.set()
            finish.wait(10)

    first = in_thread(purchase)
    try:
        assert holding.wait(10)
        assert in_thread(lambda: buy(bob, gem_pack, "b")).result(10).status_code == 201
    finally:
        finish.set()
        first.result(10)
    assert Purchase.objects.filter(status="completed").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_offer_is_read_in_the_purchases_transaction_with_its_lock(
    monkeypatch, player, gem_pack
):
    read = purchase_service.find_offer_for_sale
    depths: list[int] = []

    def recorded(**given: Any) -> Offer | None:
        depths.append(len(connection.atomic_blocks))
        return read(**given)

    monkeypatch.setattr(purchase_service, "find_offer_for_sale", recorded)
    around = len(connection.atomic_blocks)  # the test's own transaction

    assert buy(player, gem_pack, "a").status_code == 201

    assert depths == [around + 1]  # read in the purchase's own atomic block
    assert OFFER_FOR_SALE.query.sql.rstrip().endswith('FOR KEY SHARE OF "shop_offer"')
