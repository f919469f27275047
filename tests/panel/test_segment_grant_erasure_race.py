"""A segment grant writes nothing under a tombstone (docs/guide/privacy.md, "After erasure"), also
when the player's erasure is under way while the grant's chunk runs: the chunk read its players
unlocked, and the ledger's writes do not wait for an erasure, so an erasure committing between
that read and the player's grant left a ledger entry on the erased account."""

from __future__ import annotations

import threading
from unittest import mock

import pytest

from apps.accounts.models import Player
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.panel import services
from tests.conftest import (
    in_thread,
    wait_until_a_statement_waits_for_a_lock,
    while_an_erasure_waits_to_commit,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)


def test_a_chunk_waits_for_an_erasure_under_way_and_leaves_the_player_out(operator, game, gold):
    kept, erased = Player.objects.bulk_create(
        [Player(game=game, display_name="kept"), Player(game=game, display_name="erased")]
    )
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="outage", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    action.refresh_from_db()
    if not action.members_frozen:
        services._freeze_members(action)
    run = while_an_erasure_waits_to_commit(
        erased.pk, lambda: services.run_segment_action(action_id=action.pk)
    )
    done = run.result(10)

    assert (done.status, done.changed, done.skipped) == ("done", 1, 1)
    assert not LedgerEntry.objects.filter(player=erased).exists()
    assert not Wallet.objects.filter(player=erased, balance__gt=0).exists()
    assert Wallet.objects.get(player=kept).balance == 10


def test_a_login_of_a_chunk_player_waits_for_the_chunk_and_is_not_lost(operator, game, gold):
    """What the chunk's lock costs: the UPDATE of a player (a login's stamp) waits for the
    chunk's commit, then goes through."""
    player = Player.objects.create(game=game, display_name="p")
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="outage", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    in_chunk, release = threading.Event(), threading.Event()
    change_of = services._change_of

    def hold_the_chunk(action):
        in_chunk.set()
        release.wait(10)
        return change_of(action)

    with mock.patch.object(services, "_change_of", hold_the_chunk):
        run = in_thread(lambda: services.run_segment_action(action_id=action.pk))
        assert in_chunk.wait(10)  # the chunk has read (and locked) its players
        stamp = in_thread(lambda: Player.objects.filter(pk=player.pk).update(display_name="q"))
        try:
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        finally:
            release.set()
        assert run.result(10).changed == 1
    assert stamp.result(10) == 1
    assert Player.objects.get(pk=player.pk).display_name == "q"
