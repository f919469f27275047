"""The repair of the rank index (services.index_repair): drops Redis failed to make are recorded
in PostgreSQL and done once it answers, a record made again meanwhile survives, and the count
check gives no verdict while the index moves or a lapsed ban may not be followed yet, and
takes the open periods in turn, a bounded number per run."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.leaderboards import index
from apps.leaderboards.models import Entry, RankIndexDrop
from apps.leaderboards.services import index_repair
from apps.leaderboards.services.ranking import INDEXABLE, indexable_counts
from apps.leaderboards.tasks import repair_rank_indexes
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.django_db]


class DownRedis:
    def delete(self, *names: object) -> int:
        raise RedisConnectionError("Connection refused")


def test_a_failed_drop_is_recorded_once_per_period_each_time_anew(monkeypatch, caplog):
    monkeypatch.setattr(index, "_client", DownRedis)

    index.drop([7, 8], because="leaderboard index: an update failed")
    first = dict(RankIndexDrop.objects.values_list("period_id", "token"))
    index.drop([7])

    assert set(first) == {7, 8}
    again = dict(RankIndexDrop.objects.values_list("period_id", "token"))
    assert again[8] == first[8] and again[7] != first[7]
    assert "recorded, the repair task drops it within a minute" in caplog.text


def test_a_drop_that_cannot_be_recorded_either_is_logged_and_never_raised(monkeypatch, caplog):
    monkeypatch.setattr(index, "_client", DownRedis)

    def refused(*args: object, **kwargs: object) -> None:
        raise DatabaseError("connection lost")

    monkeypatch.setattr(RankIndexDrop.objects, "bulk_create", refused)

    index.drop([7], because="leaderboard index: an update failed")

    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "so did recording that" in caplog.text


def test_the_repair_runs_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["repair-leaderboard-rank-indexes"]
    assert entry["schedule"] == 60.0
    assert entry["task"] in current_app.tasks


def test_without_redis_there_is_nothing_to_repair(monkeypatch):
    RankIndexDrop.objects.create(period_id=1, token="t", recorded_at=timezone.now())
    monkeypatch.setattr(index, "_client", lambda: None)

    assert repair_rank_indexes.apply().get() == 0
    assert RankIndexDrop.objects.exists()


@pytest.mark.redis
def test_a_recorded_drop_waits_while_redis_still_fails(board, monkeypatch):
    period = current(board)
    RankIndexDrop.objects.create(period_id=period.pk, token="t", recorded_at=timezone.now())
    monkeypatch.setattr(index, "forget", lambda *ids: False)

    assert index_repair.drop_recorded() == 0
    assert RankIndexDrop.objects.filter(period_id=period.pk).exists()


@pytest.mark.redis
def test_a_drop_recorded_again_while_the_repair_ran_stays_for_the_next_run(board, monkeypatch):
    period = current(board)
    RankIndexDrop.objects.create(period_id=period.pk, token="old", recorded_at=timezone.now())
    forget = index.forget

    def forget_then_fail_again(*period_ids: int) -> bool:
        done = forget(*period_ids)
        RankIndexDrop.objects.filter(period_id=period.pk).update(token="new")
        return done

    monkeypatch.setattr(index, "forget", forget_then_fail_again)
    assert index_repair.drop_recorded() == 1
    assert RankIndexDrop.objects.get(period_id=period.pk).token == "new"
    monkeypatch.setattr(index, "forget", forget)
    assert index_repair.drop_recorded() == 1
    assert not RankIndexDrop.objects.exists()
    assert not index.is_ready(period.pk)


@pytest.fixture
def indexed(board, make_players, django_capture_on_commit_callbacks):
    players = make_players(4)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(p, n) for n, p in enumerate(players)])
    assert index.is_ready(current(board).pk)
    return players


@pytest.mark.redis
def test_a_count_that_moves_while_postgres_counts_gives_no_verdict(board, indexed, monkeypatch):
    period = current(board)
    # One member missing, but each read of the index's count differs from the one before.
    index._client().zpopmin(index.Keys.of(period.pk).members)
    reads = iter(range(100))
    monkeypatch.setattr(index, "indexed_count", lambda period_id: next(reads))

    assert index_repair.check_counts() == (1, [])
    assert index.is_ready(period.pk)


@pytest.mark.redis
def test_a_ban_that_ended_lately_and_is_not_followed_yet_is_no_wrong_count(
    board, indexed, django_capture_on_commit_callbacks
):
    period = current(board)
    with django_capture_on_commit_callbacks(execute=True):  # out of the index
        ban_player(
            player=indexed[0], reason="afk", until=timezone.now() + timedelta(hours=1), actor=None
        )
    Player.objects.filter(pk=indexed[0].pk).update(banned_until=timezone.now())  # just ended

    assert index_repair.check_counts() == (1, [])
    later = timezone.now() + index_repair.LAPSED_BAN_GRACE + timedelta(seconds=1)
    assert index_repair.check_counts(now=later) == (1, [period.pk])  # never followed: dropped
    assert not index.is_ready(period.pk)


@pytest.mark.redis
def test_the_count_check_takes_the_open_periods_in_turn(make_board, monkeypatch):
    periods = [current(make_board(f"b{n}")).pk for n in range(3)]
    seen: list[int] = []
    monkeypatch.setattr(
        index_repair, "_count_differs", lambda period_id, now: seen.append(period_id) or False
    )

    assert index_repair.check_counts(limit=2) == (2, [])
    assert index_repair.check_counts(limit=2) == (2, [])
    assert index_repair.check_counts(limit=2) == (2, [])

    assert seen == [periods[0], periods[1], periods[2], periods[0], periods[1], periods[2]]


def test_the_count_is_the_rebuilds_rows_for_every_kind_of_ban(board, make_board, make_players):
    """The repair counts a period's entries less its banned players' (an index-only count and
    a look-up from the few banned players); the rebuild reads the not banned players' entries
    (a join of every entry to its player). Both say the same at any moment."""
    players = make_players(9)
    scores(board, [(p, n) for n, p in enumerate(players)])
    scores(make_board("other"), [(p, 1) for p in players[:4]], prefix="o")  # another period
    now = timezone.now()
    earlier = now - index_repair.LAPSED_BAN_GRACE
    bans = [
        None,  # never banned
        now + timedelta(days=3650),  # until unbanned
        now + timedelta(hours=1),
        now - timedelta(minutes=2),  # ended within the grace: banned at `earlier` only
        now - timedelta(days=3),  # ended long ago
        earlier,  # ends exactly at `earlier`: not banned then
        now,  # ends exactly now
        now - timedelta(minutes=1),
        now + timedelta(microseconds=1),
    ]
    for player, until in zip(players, bans, strict=True):
        Player.objects.filter(pk=player.pk).update(banned_until=until)
    period = current(board)

    def rebuilt(moment) -> int:
        rows = INDEXABLE.rows([period.pk, connection.ops.adapt_datetimefield_value(moment)])
        return len(rows)

    def joined(moment) -> int:
        return (
            Entry.objects.filter(period=period)
            .filter(Q(player__banned_until=None) | Q(player__banned_until__lte=moment))
            .count()
        )

    assert [rebuilt(earlier), rebuilt(now)] == [joined(earlier), joined(now)] == [3, 6]
    assert indexable_counts(period.pk, earlier, now) == [3, 6]
    assert indexable_counts(period.pk, now) == [6]
    assert indexable_counts(period.pk, now + timedelta(days=1)) == [8]
    assert indexable_counts(current(make_board("empty")).pk, earlier, now) == [0, 0]


@pytest.mark.redis
def test_a_large_period_is_counted_at_most_every_few_minutes(board, indexed, settings):
    period = current(board)
    settings.LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES = 5  # 4 members: small
    assert index_repair.check_counts() == (1, [])
    assert index_repair.check_counts() == (1, [])

    settings.LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES = 4  # large
    assert index_repair.check_counts() == (1, [])
    assert index_repair.check_counts() == (0, [])  # counted within the last 10 minutes

    settings.LEADERBOARD_INDEX_CHECK_LARGE_MINUTES = 0  # every round, as a small one
    index._client().zpopmin(index.Keys.of(period.pk).members)  # a lost first score
    assert index_repair.check_counts() == (1, [period.pk])  # the second count is never skipped
    assert not index.is_ready(period.pk)


@pytest.mark.redis
def test_a_large_periods_wrong_count_is_found_at_its_first_count(board, indexed, settings):
    period = current(board)
    settings.LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES = 3
    index._client().zpopmin(index.Keys.of(period.pk).members)  # 3 members of 4 entries

    assert index_repair.check_counts() == (1, [period.pk])  # the confirming count is made too
