"""Operators' grants racing each other and a purchase of the same player, on PostgreSQL: every
adjustment is applied once per key (a double submit is one grant and one audit entry), none is
lost, and every balance agrees with its ledger (`manage.py audit_ledger`) afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.core.management import call_command

from apps.accounts.models import GameAccess, Player
from apps.audit.models import AuditLogEntry
from apps.inventory.services import Change, operator_adjust
from apps.shop.services.purchase import purchase_offer
from tests.conftest import in_thread
from tests.shop.helpers import balance, fund, make_economy, make_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def adjust(actor, player_id: int, delta: int, key: str):
    player = Player.objects.get(pk=player_id)  # each request loads its own player
    change = Change("currency", "gold", delta)
    return operator_adjust(
        actor=actor, player=player, change=change, note="ticket", idempotency_key=key
    )


def all_at_once(works: Sequence[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(works))

    def started(work: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            barrier.wait()
            return work()

        return run

    futures = [in_thread(started(work)) for work in works]
    return [future.result(60) for future in futures]


@pytest.mark.parametrize("funded", [True, False], ids=["wallet", "first-wallet"])
def test_the_same_form_sent_eight_times_at_once_grants_once(make_operator, game, player, funded):
    make_economy(game)
    if funded:
        fund(player, 100)
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)

    results = all_at_once([lambda: adjust(alice, player.pk, 7, "panel:k")] * 8)

    assert sorted(result.replayed for result in results) == [False] + [True] * 7
    assert balance(player, "gold") == (100 if funded else 0) + 7
    assert AuditLogEntry.objects.filter(action="inventory.grant").count() == 1
    call_command("audit_ledger")


def test_two_operators_adjusting_at_once_lose_nothing(make_operator, game, player):
    make_economy(game)
    fund(player, 100)
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)
    bob = make_operator("bob", game, GameAccess.Role.OPERATOR)
    works = [
        (lambda n=n: adjust(alice if n % 2 else bob, player.pk, 7 if n % 2 else -5, f"k{n}"))
        for n in range(8)
    ]

    all_at_once(works)

    assert balance(player, "gold") == 100 + 4 * 7 - 4 * 5
    assert AuditLogEntry.objects.filter(action__startswith="inventory.").count() == 8
    call_command("audit_ledger")


def test_adjustments_racing_purchases_agree_with_the_ledger(make_operator, game, player):
    make_economy(game)
    fund(player, 1000)
    offer = make_offer(game)  # 100 gold for 10 gems
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)

    def buy(n: int) -> object:
        bought = Player.objects.get(pk=player.pk)
        return purchase_offer(player=bought, offer_id=offer.pk, quantity=1, idempotency_key=f"b{n}")

    works = [lambda n=n: buy(n) for n in range(5)]
    works += [
        lambda n=n: adjust(alice, player.pk, -150 if n % 2 else 150, f"a{n}") for n in range(5)
    ]
    all_at_once(works)

    assert balance(player, "gold") == 1000 - 5 * 100 + 3 * 150 - 2 * 150
    assert balance(player, "gems") == 50
    call_command("audit_ledger")
