"""`manage.py audit_ledger` checks every stored balance against one grouped read of the ledger
per kind (currency, item), never a lookup of a player's entries for each wallet or holding: a
correlated sum and last-entry lookup per row rescanned a player's whole ledger (its index leads
with the player, not the currency) for each of their rows, three times per row."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.inventory.models import LedgerEntry, PlayerItem, Wallet
from apps.inventory.selectors import ledger_discrepancies
from apps.inventory.services import Change, apply_changes
from tests.shop.helpers import make_economy


@pytest.fixture
def holdings(player, other_player, game, other_game):
    make_economy(game)
    make_economy(other_game)
    for who in (player, other_player):
        for n in range(3):
            apply_changes(
                player=who,
                changes=[Change("currency", "gold", 10), Change("item", "potion", 2)],
                reason="t",
                idempotency_key=f"k{n}",
            )


@pytest.mark.postgres
def test_no_subquery_runs_for_each_stored_row(holdings):
    with CaptureQueriesContext(connection) as captured:
        ledger_discrepancies()
    reads = [q["sql"] for q in captured.captured_queries if "inventory_ledgerentry" in q["sql"]]
    assert reads
    with connection.cursor() as cursor:
        for sql in reads:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "SubPlan" not in plan, plan


def test_every_disagreement_is_found_with_the_grouped_read(holdings, player, other_player):
    """Sum off, last balance_after off, and both kinds, per game and for all games."""
    Wallet.objects.filter(player=player).update(balance=31)  # the ledger says 30
    PlayerItem.objects.filter(player=other_player).update(quantity=5)  # the ledger says 6
    gold = Wallet.objects.get(player=other_player).currency
    # The sum still 30, the last entry says 29: an entry's balance_after tampered.
    last = LedgerEntry.objects.filter(player=other_player, currency=gold).order_by("-id").first()
    assert last is not None
    LedgerEntry.objects.filter(pk=last.pk).update(balance_after=29)

    checked, found = ledger_discrepancies()

    assert checked == 4
    assert sorted((d.player_id, d.kind, d.code, d.stored, d.from_ledger, d.last_balance_after)
                  for d in found) == sorted([
        (player.pk, "currency", "gold", 31, 30, 30),
        (other_player.pk, "currency", "gold", 30, 30, 29),
        (other_player.pk, "item", "potion", 5, 6, 6),
    ])  # fmt: skip
    for d in found:
        assert type(d.from_ledger) is int and type(d.stored) is int

    assert ledger_discrepancies(game_id=player.game_id) == (2, [found_for(found, player)])
    with pytest.raises(CommandError) as failure:
        call_command("audit_ledger", "--game", other_player.game.slug)
    assert failure.value.returncode == 1


def found_for(found, player):
    (one,) = [d for d in found if d.player_id == player.pk]
    return one


def test_rows_without_entries_agree_at_zero_and_disagree_above(player, game):
    make_economy(game)
    apply_changes(
        player=player, changes=[Change("currency", "gems", 0)], reason="t", idempotency_key="z"
    )
    Wallet.objects.create(player=player, currency=game.currencies.get(code="gold"), balance=0)
    assert ledger_discrepancies() == (1, [])

    Wallet.objects.filter(player=player).update(balance=4)  # credited outside the ledger

    checked, (found,) = ledger_discrepancies()
    assert (checked, found.code, found.stored, found.from_ledger, found.last_balance_after) == (
        1,
        "gold",
        4,
        0,
        None,
    )
