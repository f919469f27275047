"""An operator's new currency cap (follow_currency_cap, one UPDATE of every wallet of the
currency) racing a transaction that moves that currency for several players (a segment grant's
chunk: panel.services._run_chunk, players in id order), on PostgreSQL with real threads."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, transaction

from apps.accounts.models import Player
from apps.inventory import demo as inventory_demo
from apps.inventory.models import Wallet
from apps.inventory.services import Change, apply_changes, follow_currency_cap
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_new_cap_and_a_chunk_granting_the_currency_do_not_deadlock(game):
    """The chunk holds the first player's gold wallet (granted) and goes on to the second's;
    the cap's UPDATE met the second player's wallet first (made before the first player's) and
    waits for the first's."""
    inventory_demo.seed(game)
    gold = game.currencies.get(code="gold")
    first, second = (Player.objects.create(game=game, display_name=n) for n in ("a", "b"))
    assert first.pk < second.pk
    Wallet.objects.create(player=second, currency=gold, cap=gold.cap)  # made first
    Wallet.objects.create(player=first, currency=gold, cap=gold.cap)
    held, go = threading.Event(), threading.Event()

    def chunk() -> None:
        with transaction.atomic():
            for player in (first, second):  # id order, as every chunk takes its players
                apply_changes(
                    player=player, changes=[Change("currency", "gold", 5)],
                    reason="operator_grant", idempotency_key="segment:1",
                )  # fmt: skip
                if player == first:
                    held.set()  # the first player's wallet is held to the chunk's commit
                    go.wait(10)

    granting = in_thread(chunk)
    assert held.wait(10)
    gold.cap = 1_000_000
    gold.save()
    capping = in_thread(lambda: follow_currency_cap(currency=gold))
    wait_until_a_statement_waits_for_a_lock()  # the cap's UPDATE, for the first's wallet
    go.set()

    errors = []
    for work in (granting, capping):
        try:
            work.result(15)
        except OperationalError as error:
            errors.append(error)
    if errors:
        raise errors[0]
    assert set(Wallet.objects.values_list("balance", "cap")) == {(5, 1_000_000)}
