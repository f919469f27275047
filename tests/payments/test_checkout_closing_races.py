"""The sweeper closing checkouts never opened while a buyer purchases the same offer (PostgreSQL,
real threads): each checkout is closed in its own transaction, so the sweep never holds an
offer's row while it waits for a buyer's limit counter that buyer holds while waiting for the
offer (services/closing.py)."""

from __future__ import annotations

import queue
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import Player
from apps.payments.services import recovery
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import eventually, in_thread
from tests.payments.test_checkout_closing import FakeTask, unopened_checkout

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def waits_for_me(pid: int) -> bool:
    """Whether session `pid` waits for a lock this session holds (read live, not from the
    statistics snapshot pg_stat_activity keeps for the rest of a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() = ANY(pg_blocking_pids(%s))", [pid])
        return cursor.fetchone()[0]


def test_the_sweeper_and_a_buyer_of_the_same_offer_do_not_deadlock(
    player, game, real_offer, settings, monkeypatch
):
    """The sweep closes the first buyer's checkout (its offer row locked to give the stock back);
    meanwhile the second buyer purchases the offer again: their limit counter locked, then
    waiting for the offer. The sweep then closes the second buyer's own unopened checkout, which
    needs that counter. In one transaction for the batch, each waited for the other (PostgreSQL
    aborted one of them); closed one by one, the sweep has let the offer go by then."""
    Offer.objects.filter(pk=real_offer.pk).update(stock=10, per_player_limit=2)
    other = Player.objects.create(game=game, display_name="bob")
    first = unopened_checkout(player, real_offer, "first", monkeypatch)
    unopened_checkout(other, real_offer, "other-1", monkeypatch)
    shop = recovery.purchase_outcomes()
    buyer_pid: queue.Queue[int] = queue.Queue()
    buying, blocked = [], []

    def buy_again():
        buyer_pid.put(backend_pid())
        return purchase_offer(
            player=other, offer_id=real_offer.pk, quantity=1, idempotency_key="other-2"
        )

    class BuyerArrivesMidClose:
        def closed(self, **kwargs: object) -> None:
            shop.closed(**kwargs)  # type: ignore[arg-type]
            if kwargs["purchase_id"] != first.purchase_id:
                return
            # The first buyer's stock is back, its offer row still locked by this close.
            buying.append(in_thread(buy_again))
            pid = buyer_pid.get(timeout=10)
            eventually(lambda: waits_for_me(pid) or buying[0].done(), within=10)
            blocked.append(not buying[0].done())

    monkeypatch.setattr(recovery, "purchase_outcomes", BuyerArrivesMidClose)
    now = timezone.now() + timedelta(seconds=settings.PAYMENTS_UNOPENED_CHECKOUT_SECONDS + 1)
    swept = in_thread(
        lambda: recovery.sweep(event_task=FakeTask(), callback_task=FakeTask(), now=now)
    )

    report = swept.result(timeout=30)
    bought = buying[0].result(timeout=30)
    assert blocked == [True]  # the buyer did wait for the offer row the close held
    assert report.unopened_checkouts == 2
    assert bought.status_code == 202, bought.body
    statuses = dict(Purchase.objects.values_list("idempotency_key", "status"))
    assert statuses == {"first": "failed", "other-1": "failed", "other-2": "pending"}
    assert Offer.objects.get(pk=real_offer.pk).stock == 9
    counts = dict(OfferPurchaseCount.objects.values_list("player_id", "count"))
    assert counts == {player.pk: 0, other.pk: 1}
