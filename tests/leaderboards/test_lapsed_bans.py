"""A timed ban takes the player's entries out of the rank index; when it ends by itself (no
operator unbans), the beat task puts them back, so ranks count the player again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.leaderboards import index
from apps.leaderboards.services.ranking import rebuild_index, restore_lapsed_bans
from apps.leaderboards.tasks import restore_lapsed_bans as restore_task
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_a_lapsed_ban_puts_the_entries_back_once(
    board, make_players, django_capture_on_commit_callbacks
):
    a, b, c = make_players(3)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30), (b, 20), (c, 10)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=a, reason="afk", until=timezone.now() + timedelta(hours=1), actor=None)
        ban_player(player=b, reason="afk", until=timezone.now() + timedelta(days=3), actor=None)
    assert index.left_out(period.pk, [a.pk, b.pk, c.pk]) == {a.pk, b.pk}

    now = timezone.now() + timedelta(hours=1, seconds=1)  # a's ban is over, b's is not
    assert restore_lapsed_bans(now=now) == 1

    assert index.left_out(period.pk, [a.pk, b.pk, c.pk]) == {b.pk}
    entry = period.entries.get(player=a)
    member = index.member_of(rank_key=entry.rank_key, reached_at=entry.reached_at, player_id=a.pk)
    assert index.rank_of(period.pk, member) == 0  # first again, ahead of c
    assert restore_lapsed_bans(now=now) == 0  # already back: nothing to do


def test_bans_that_ended_long_ago_or_boards_without_an_index_are_left_alone(
    board, make_players, django_capture_on_commit_callbacks
):
    (a,) = make_players(1)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 5)])
    Player.objects.filter(pk=a.pk).update(banned_until=timezone.now() - timedelta(days=2))

    assert restore_lapsed_bans() == 0  # outside the window
    Player.objects.filter(pk=a.pk).update(banned_until=timezone.now() - timedelta(minutes=1))
    index.forget(current(board).pk)
    assert restore_task.apply().get() == 0  # no ready index: a rebuild reads PostgreSQL anyway


def test_lapsed_bans_are_read_in_batches_and_once(
    board, make_players, monkeypatch, django_capture_on_commit_callbacks
):
    """A segment ban of many players that ends reads its players a batch at a time, and the
    next runs (every minute, for a day) read none of them again. Bans that ended hours ago (the
    beat was down) are caught up on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.leaderboards.services import ranking

    players = make_players(6)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(p, 10 * n) for n, p in enumerate(players)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for p, minutes in zip(players, [1, 2, 2, 3, 4, 5], strict=True):  # two end together
            ban_player(
                player=p, reason="segment", until=now + timedelta(minutes=minutes), actor=None
            )
    everyone = {p.pk for p in players}
    assert index.left_out(period.pk, sorted(everyone)) == everyone
    monkeypatch.setattr(ranking, "LAPSED_BAN_BATCH", 2, raising=False)
    later = now + timedelta(hours=10)  # the beat was down since before the first ended

    with CaptureQueriesContext(connection) as first:
        assert restore_lapsed_bans(now=later) == 6

    assert index.left_out(period.pk, sorted(everyone)) == set()
    batches = [q["sql"] for q in first.captured_queries if "banned_until" in q["sql"]]
    assert len(batches) == 4 and all("LIMIT 2" in sql for sql in batches)  # 2+2+2, then none
    for minutes in (1, 2):
        with CaptureQueriesContext(connection) as again:
            assert restore_lapsed_bans(now=later + timedelta(minutes=minutes)) == 0
        assert len(again.captured_queries) == 1  # the players past the mark: none
        assert "leaderboards_entry" not in again.captured_queries[0]["sql"]


def test_a_period_being_rebuilt_keeps_its_lapsed_bans_for_the_next_run(
    board, make_players, django_capture_on_commit_callbacks
):
    """A build under way may have read the entries while the ban lasted: the next run looks at
    those players again, and puts them back once that build has marked the index ready."""
    a, b = make_players(2)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30), (b, 20)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=a, reason="afk", until=timezone.now() + timedelta(hours=1), actor=None)
    keys = index.Keys.of(period.pk)
    client = index._client()
    ready = client.get(keys.ready)
    client.delete(keys.ready)
    client.set(keys.building, "a build that read a as banned")
    now = timezone.now() + timedelta(hours=1, seconds=1)

    assert restore_lapsed_bans(now=now) == 0  # not ready: nothing to put back yet

    client.set(keys.ready, ready)  # that build is done, without a
    client.delete(keys.building)
    assert index.left_out(period.pk, [a.pk, b.pk]) == {a.pk}
    assert restore_lapsed_bans(now=now + timedelta(minutes=1)) == 1
    assert index.left_out(period.pk, [a.pk, b.pk]) == set()
    assert restore_lapsed_bans(now=now + timedelta(minutes=2)) == 0


def test_a_restore_that_failed_keeps_the_mark_for_the_next_run(
    board, make_players, monkeypatch, django_capture_on_commit_callbacks
):
    (a,) = make_players(1)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=a, reason="afk", until=timezone.now() + timedelta(hours=1), actor=None)
    now = timezone.now() + timedelta(hours=1, seconds=1)
    mark_before = index.lapsed_mark()
    with monkeypatch.context() as failing:
        failing.setattr(index, "apply", lambda period_id, changes, **kwargs: False)
        restore_lapsed_bans(now=now)

    assert index.lapsed_mark() == mark_before  # not past a player who was not put back
    assert restore_lapsed_bans(now=now) == 1
    assert index.left_out(period.pk, [a.pk]) == set()
