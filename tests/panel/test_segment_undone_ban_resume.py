"""A segment ban that stopped partway (failed in an outage) may be undone; the undo lifts the
bans it placed. Its rest must then never be banned: the sweep used to resume the failed ban (an
outage is resumed by itself), and Queue again too, banning the players after the undo walked
past them. Now the undo marks it undone: the sweep leaves it, Queue again does nothing, and a
run of it stops before its next chunk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from apps.accounts.models import Player
from apps.audit.models import AuditLogEntry
from apps.panel import services
from apps.panel.models import UNDONE, SegmentAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def stopped_ban(operator, game, monkeypatch):
    """A ban of 3 players that banned the first, then failed in an outage."""
    monkeypatch.setattr(services, "CHUNK_SIZE", 1)
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(3)])
    ban, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="b", kind="ban", filters={},
        reason="raid", ban_until=timezone.now() + timedelta(days=3),
    )  # fmt: skip
    services.run_segment_action(action_id=ban.pk, seconds=0)  # one chunk
    services.mark_segment_action_failed(action_id=ban.pk, error=OperationalError("gone"))
    ban.refresh_from_db()
    assert (ban.status, ban.processed, ban.failure_transient) == ("failed", 1, True)
    return ban


def undo(operator, game, ban):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="u", kind="unban", filters={},
        reason="wrong raid", undoes=ban,
    )  # fmt: skip
    return services.run_segment_action(action_id=action.pk)


def banned(game) -> int:
    return sum(player.is_banned for player in Player.objects.filter(game=game))


def test_the_sweep_does_not_resume_an_undone_ban(operator, game, stopped_ban):
    assert undo(operator, game, stopped_ban).changed == 1
    assert banned(game) == 0

    claimed = services.resume_stopped_segment_actions()
    for action_id in claimed:
        services.run_segment_action(action_id=action_id)

    assert stopped_ban.pk not in claimed
    assert banned(game) == 0
    stopped_ban.refresh_from_db()
    assert (stopped_ban.failure, stopped_ban.failure_transient) == (UNDONE, False)


def test_queue_again_and_a_stray_run_of_an_undone_ban_ban_nobody(operator, game, stopped_ban):
    undo(operator, game, stopped_ban)

    assert services.queue_segment_action_again(action_id=stopped_ban.pk, actor=operator) is None
    # A task of it queued before the undo still runs: it stops before its next chunk.
    ran = services.run_segment_action(action_id=stopped_ban.pk)

    assert banned(game) == 0
    assert (ran.status, ran.failure, ran.processed) == ("failed", UNDONE, 1)
    stop = AuditLogEntry.objects.get(action="segment.stop")
    assert stop.after == {"status": "failed", "failure": UNDONE}
    assert not SegmentAction.objects.filter(pk=stopped_ban.pk, status="done").exists()


def test_the_prune_keeps_a_ban_an_undo_still_walks(operator, game, settings):
    """The undo reads each player's ban from before the segment ban in that ban's member list:
    pruned under a pending undo (the ban done longer ago than kept), the undo lifted nothing."""
    settings.SEGMENT_MEMBERS_KEPT_DAYS = 30
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(2)])
    ban, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="b", kind="ban", filters={},
        reason="raid", ban_until=timezone.now() + timedelta(days=90),
    )  # fmt: skip
    services.run_segment_action(action_id=ban.pk)
    SegmentAction.objects.filter(pk=ban.pk).update(
        finished_at=timezone.now() - timedelta(days=29, hours=23)
    )
    ban.refresh_from_db()
    pending, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="u", kind="unban", filters={},
        reason="wrong raid", undoes=ban,
    )  # fmt: skip

    later = timezone.now() + timedelta(hours=2)
    assert services.prune_segment_members(now=later) == 0  # the undo's list is not done either
    assert services.run_segment_action(action_id=pending.pk).changed == 2
    assert banned(game) == 0
    assert services.prune_segment_members(now=later) == 2  # done: the ban's list goes
