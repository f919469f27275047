"""A done segment action's member list (a row per player it was for) is deleted
SEGMENT_MEMBERS_KEPT_DAYS after it finished, by a daily beat task, a batch at a time; the action's
page still shows what it did (its counts and refusals are on the action)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Player
from apps.inventory.models import Currency, Wallet
from apps.panel import services, tasks
from apps.panel.models import SegmentAction, SegmentMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def players(game):
    return Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(7)])


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)


def granted(operator, game, key: str, *, finished_days_ago: float | None) -> SegmentAction:
    """A grant of 10 gold to every player, run to the end (finished that many days ago) or, with
    None, left queued."""
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key=key, kind="grant", filters={},
        reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    if finished_days_ago is not None:
        services.run_segment_action(action_id=action.pk)
        finished = timezone.now() - timedelta(days=finished_days_ago)
        SegmentAction.objects.filter(pk=action.pk).update(finished_at=finished)
    action.refresh_from_db()
    return action


def members(action: SegmentAction) -> int:
    return SegmentMember.objects.filter(action=action).count()


def test_members_of_actions_done_longer_ago_than_kept_are_deleted_in_batches(
    operator, game, players, gold, settings, monkeypatch
):
    settings.SEGMENT_MEMBERS_KEPT_DAYS = 30
    monkeypatch.setattr(services, "MEMBER_PRUNE_BATCH", 3)
    old = granted(operator, game, "old", finished_days_ago=30.1)
    recent = granted(operator, game, "recent", finished_days_ago=29.9)
    queued = granted(operator, game, "queued", finished_days_ago=None)
    SegmentAction.objects.filter(pk=queued.pk).update(
        created_at=timezone.now() - timedelta(days=90)
    )
    failed = granted(operator, game, "failed", finished_days_ago=None)
    SegmentAction.objects.filter(pk=failed.pk).update(
        status=SegmentAction.Status.FAILED, created_at=timezone.now() - timedelta(days=90)
    )

    with CaptureQueriesContext(connection) as queries:
        deleted = services.prune_segment_members()

    assert deleted == 7
    assert (members(old), members(recent), members(queued), members(failed)) == (0, 7, 7, 7)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1 players, each batch a range of (action, player)
    assert all(f'"action_id" = {old.pk}' in sql for sql in deletes)
    assert [bool(re.search(r'"player_id" <= \d+', sql)) for sql in deletes] == [True, True, False]
    # Nothing left to prune: no batch at all, and what the run did is kept on the action.
    with CaptureQueriesContext(connection) as again:
        assert services.prune_segment_members() == 0
    assert not [q for q in again.captured_queries if q["sql"].startswith("DELETE")]
    old.refresh_from_db()
    assert (old.status, old.total, old.processed, old.changed) == ("done", 7, 7, 7)
    assert Wallet.objects.filter(currency=gold).count() == 7


def test_a_pruned_actions_page_shows_what_it_did(operator_client, operator, game, players, gold):
    Wallet.objects.create(player=players[0], currency=gold, balance=995, cap=1000)  # refused
    action = granted(operator, game, "k", finished_days_ago=31)
    run_url = f"/panel/games/{game.pk}/segment/runs/{action.pk}/"
    before = operator_client.get(run_url).content.decode()

    services.prune_segment_members()

    assert members(action) == 0
    after = operator_client.get(run_url).content.decode()
    status = re.compile(r'<p id="segment-status">.*?</p>', re.S)
    assert status.search(after).group() == status.search(before).group()
    assert "7 of 7 player(s) processed" in after and "6 changed" in after
    assert f"player #{players[0].pk}</a>: " in after  # its refusal, kept on the action
    # A done action is never run again: Queue again changes nothing.
    assert services.queue_segment_action_again(action_id=action.pk, actor=operator) is None
    assert services.run_segment_action(action_id=action.pk).processed == 7


def test_the_daily_beat_task_prunes(operator, game, players, gold, settings):
    settings.SEGMENT_MEMBERS_KEPT_DAYS = 2
    action = granted(operator, game, "k", finished_days_ago=3)
    entry = django_settings.CELERY_BEAT_SCHEDULE["prune-segment-members"]

    assert entry["task"] == tasks.prune_done_segment_members.name
    assert isinstance(entry["schedule"], crontab)  # daily at a fixed time: survives restarts
    assert tasks.prune_done_segment_members.delay().get() == 7
    assert members(action) == 0


@pytest.mark.parametrize("days", [800_000, 10**10])
def test_lists_kept_longer_than_the_calendar_reaches_are_never_due(
    operator, game, players, gold, settings, days
):
    """SEGMENT_MEMBERS_KEPT_DAYS past what a date can go back (year 1) kept the daily prune
    failing (an OverflowError every night): now nothing is due, and nothing is deleted."""
    settings.SEGMENT_MEMBERS_KEPT_DAYS = days
    action = granted(operator, game, "k", finished_days_ago=3)

    assert services.prune_segment_members() == 0
    assert members(action) == 7
