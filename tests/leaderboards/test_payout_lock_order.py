"""A leaderboard payout racing an operator's grant to the same player, on PostgreSQL with real
threads: no deadlock, both land."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from apps.inventory import demo as inventory_demo
from apps.inventory import services as inventory_services
from apps.inventory.models import LedgerEntry, Wallet
from apps.inventory.services import Change, operator_adjust
from apps.leaderboards.models import Payout
from apps.leaderboards.services.payouts import pay_one
from apps.leaderboards.services.periods import close_period
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.conftest import current

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_payout_and_a_grant_that_locked_the_wallet_first_do_not_deadlock(
    board, game, make_players, monkeypatch
):
    """The operator's grant holds the player's gold wallet and then writes its ledger entry (a
    row naming the player: a key-share lock on the player's row); the payout locks its row and
    then waits for the same wallet. The payout's lock on the player, if any, must not be one the
    grant's insert waits for: with FOR UPDATE (the ORM's default on every joined row) the two
    deadlocked and one of them failed."""
    inventory_demo.seed(game)
    (player,) = make_players(1)
    Wallet.objects.create(player=player, currency=game.currencies.get(code="gold"))
    period = current(board)
    close_period(period_id=period.pk)
    payout = Payout.objects.create(
        period=period, player=player, rank=1, score=10,
        contents=[{"currency": "gold", "quantity": 20}],
    )  # fmt: skip
    operator = User.objects.create_user("operator")
    locked, go = threading.Event(), threading.Event()
    write = inventory_services._write
    grant_thread: list[threading.Thread] = []

    def held_write(**kwargs):
        if threading.current_thread() in grant_thread:
            locked.set()  # the grant holds the wallet's row lock from here to its commit
            go.wait(10)
        return write(**kwargs)

    monkeypatch.setattr(inventory_services, "_write", held_write)

    def grant() -> None:
        grant_thread.append(threading.current_thread())
        with transaction.atomic():
            operator_adjust(
                actor=operator, player=player, change=Change("currency", "gold", 5),
                note="goodwill", idempotency_key="panel:goodwill",
            )  # fmt: skip

    granting = in_thread(grant)
    assert locked.wait(10)
    paying = in_thread(lambda: pay_one(payout_id=payout.pk))
    wait_until_a_statement_waits_for_a_lock()  # the payout, for the wallet the grant holds
    go.set()

    granting.result(15)
    assert paying.result(15) == 1
    assert Wallet.objects.get(player=player).balance == 25
    assert LedgerEntry.objects.filter(player=player).count() == 2
    assert Payout.objects.get(pk=payout.pk).paid_at is not None
