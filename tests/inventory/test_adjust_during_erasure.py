"""An operator's grant or revoke whose player was loaded before the player's erasure committed
writes nothing under the tombstone: it waits for the erasure and is refused, `410
player_erased` (docs/guide/privacy.md, "After erasure"), with no ledger line, balance change or
audit entry. `operator_adjust` checks the row it was handed; the wallet lock reads the player's
row FOR SHARE (LOCK_SQL), so an erasure either waits for the adjustment or is seen by it. A
refund's claw-back is not refused: the ledger of an erased player's purchases stays the
accountant's record."""

from __future__ import annotations

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.models import GameAccess, Player
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import LedgerEntry
from apps.inventory.services import Change, apply_changes, claw_back, operator_adjust
from tests.conftest import while_an_erasure_waits_to_commit
from tests.shop.helpers import balance, fund, make_economy


def adjust(actor, player: Player, delta: int):
    return operator_adjust(
        actor=actor,
        player=player,
        change=Change("currency", "gold", delta),
        note="support ticket 42",
        idempotency_key=f"panel:{delta}",
    )


def assert_unchanged(player: Player) -> None:
    assert list(LedgerEntry.objects.filter(player=player).values_list("reason", flat=True)) == [
        "test"  # the funding only
    ]
    assert balance(player, "gold") == 50
    assert not AuditLogEntry.objects.filter(action__startswith="inventory.").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("delta", [25, -20])
def test_an_adjustment_loaded_before_an_erasure_commits_waits_for_it_and_is_refused(
    make_operator, game, player, delta
):
    make_economy(game)
    fund(player, 50)
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)
    loaded = Player.objects.get(pk=player.pk)  # the panel's player, before the erasure

    adjusted = while_an_erasure_waits_to_commit(player.pk, lambda: adjust(alice, loaded, delta))

    with pytest.raises(PlayerErased) as refused:
        adjusted.result(10)
    assert (refused.value.status, refused.value.code) == (410, "player_erased")
    assert_unchanged(player)


@pytest.mark.django_db
def test_an_adjustment_after_an_erasure_it_did_not_see_is_refused(make_operator, game, player):
    make_economy(game)
    fund(player, 50)
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)
    loaded = Player.objects.get(pk=player.pk)
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)

    with pytest.raises(PlayerErased):
        adjust(alice, loaded, 25)

    assert_unchanged(player)


@pytest.mark.django_db
def test_a_value_move_for_a_player_erased_since_it_was_loaded_is_refused(game, player):
    make_economy(game)
    fund(player, 50)
    loaded = Player.objects.get(pk=player.pk)
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)

    with pytest.raises(PlayerErased):
        apply_changes(
            player=loaded,
            changes=[Change("currency", "gems", 5)],
            reason="test",
            idempotency_key="late",
        )

    assert balance(player, "gems") == 0


@pytest.mark.django_db
def test_a_claw_back_still_takes_back_from_an_erased_player(game, player):
    """A refund or chargeback reported after the erasure is processed as any other."""
    make_economy(game)
    fund(player, 50)
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)
    erased = Player.objects.get(pk=player.pk)

    result = claw_back(
        player=erased,
        changes=[Change("currency", "gold", -80)],
        reason="refund",
        idempotency_key="refund:1",
    )

    assert [entry.delta for entry in result.entries] == [-50]
    assert result.shortfall == [{"currency": "gold", "quantity": 30}]
    assert balance(player, "gold") == 0
