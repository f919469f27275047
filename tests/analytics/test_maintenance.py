from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError
from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.analytics import maintenance, tasks
from apps.analytics.models import DailyMetrics, DirtyDay, PlayerDay, RawEvent, RetentionCell
from apps.analytics.services import record_server_event


@pytest.fixture
def today() -> date:
    """The UTC day as the test starts, never as the module was collected: a run collected
    before midnight and run after it would otherwise put the data on the day before the code's
    own today."""
    return timezone.now().date()


@pytest.fixture
def session(today: date) -> Callable[[Player, int], None]:
    """Records a session start of a player at 09:00 UTC, `days_ago` days before the test's today."""

    def record(player: Player, days_ago: int) -> None:
        when = datetime.combine(today - timedelta(days=days_ago), time(9), tzinfo=UTC)
        record_server_event(
            game_id=player.game_id, player_id=player.pk, name="session_start", occurred_at=when
        )

    return record


def test_beat_task_aggregates_the_last_three_days_of_every_game(
    player, other_player, today, session
):
    session(player, 0)
    session(player, 1)
    session(other_player, 0)
    session(player, 5)  # late: marked dirty

    tasks.aggregate_recent_days.delay()

    dau = dict(DailyMetrics.objects.filter(game=player.game).values_list("day", "dau"))
    recent = {today - timedelta(days=n): 0 for n in range(3)}  # the day before yesterday too
    assert dau == {**recent, today: 1, today - timedelta(days=1): 1, today - timedelta(days=5): 1}
    assert DailyMetrics.objects.get(game=other_player.game, day=today).dau == 1
    assert not DirtyDay.objects.exists()


def test_a_day_whose_sums_overflow_stops_neither_its_game_nor_the_others(
    player, other_player, caplog, today, session
):
    assert player.game_id < other_player.game_id  # the failing game comes first
    late = today - timedelta(days=5)
    for n in range(10):  # each amount fits; their sum passes what a bigint holds
        record_server_event(
            game_id=player.game_id,
            player_id=player.pk,
            name="purchase_completed",
            properties={
                "offer_id": "o",
                "currency": "gold",
                "amount": 95 * 10**16,
                "real_money": False,
                "purchase_id": n,
            },
            occurred_at=datetime.combine(late, time(9), tzinfo=UTC),  # late: marked dirty
        )
    session(player, 0)
    session(other_player, 0)

    maintenance.aggregate_recent()

    assert DailyMetrics.objects.get(game=player.game, day=today).dau == 1
    assert DailyMetrics.objects.get(game=other_player.game, day=today).dau == 1
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [late]  # for the next run
    assert f"ALERT analytics aggregation of game {player.game_id} failed" in caplog.text


# 3: a late day next to the recent ones; 2: a recent day, marked when it fails so that it is
# retried once it is no longer recent.
@pytest.mark.parametrize("bad_days_ago", [3, 2])
def test_a_day_that_always_fails_holds_back_neither_today_nor_its_neighbours(
    player, monkeypatch, caplog, bad_days_ago, today, session
):
    bad = today - timedelta(days=bad_days_ago)
    for days_ago in (0, 2, 3, 4):  # 3 and 4 are late: marked dirty
        session(player, days_ago)
    aggregate_days = maintenance.aggregate_days

    def failing_on_the_bad_day(*, game_id, start, end, **kwargs) -> None:
        if start <= bad <= end:
            raise DataError("bigint out of range")
        aggregate_days(game_id=game_id, start=start, end=end, **kwargs)

    monkeypatch.setattr(maintenance, "aggregate_days", failing_on_the_bad_day)

    maintenance.aggregate_recent()

    dau = dict(DailyMetrics.objects.filter(game=player.game).values_list("day", "dau"))
    assert {dau.get(today - timedelta(days=n)) for n in (0, 2, 3, 4) if n != bad_days_ago} == {1}
    assert bad not in dau
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [bad]  # for the next run
    assert f"ALERT analytics aggregation of game {player.game_id} failed for {bad}" in caplog.text


def test_a_day_marked_again_while_it_is_aggregated_stays_dirty(player, monkeypatch, today, session):
    late = today - timedelta(days=5)
    session(player, 5)  # marked dirty
    # A batch whose clock is behind the first mark's (another server, or a transaction that
    # read it earlier) commits while the beat aggregates the day: the beat did not see it.
    behind = DirtyDay.objects.get().marked_at - timedelta(seconds=1)
    newcomer = Player.objects.create(game=player.game, display_name="late")
    aggregate_days = maintenance.aggregate_days
    batches = [newcomer]

    def aggregate_while_a_batch_commits(*, start, end, **kwargs) -> None:
        aggregate_days(start=start, end=end, **kwargs)
        if start <= late <= end and batches:
            with monkeypatch.context() as clock:
                clock.setattr(timezone, "now", lambda: behind)
                session(batches.pop(), 5)

    monkeypatch.setattr(maintenance, "aggregate_days", aggregate_while_a_batch_commits)

    maintenance.aggregate_recent()

    assert DailyMetrics.objects.get(game=player.game, day=late).dau == 1
    assert DirtyDay.objects.filter(day=late).exists()

    maintenance.aggregate_recent()

    assert DailyMetrics.objects.get(game=player.game, day=late).dau == 2
    assert not DirtyDay.objects.exists()


def test_days_missed_while_the_beat_was_down_are_recomputed(player, today):
    maintenance.aggregate_recent(today=today - timedelta(days=6))  # the last run before
    for days_ago in (7, 5, 4, 3):
        when = datetime.combine(today - timedelta(days=days_ago), time(9), tzinfo=UTC)
        # Stored on its own day (or the next), then recent: never marked dirty.
        RawEvent.objects.create(
            game=player.game,
            player=player,
            source=RawEvent.Source.SERVER,
            name="session_start",
            occurred_at=when,
            day=when.date(),
        )

    maintenance.aggregate_recent()

    dau = dict(DailyMetrics.objects.filter(game=player.game).values_list("day", "dau"))
    assert [dau.get(today - timedelta(days=n)) for n in (7, 5, 4, 3)] == [1, 1, 1, 1]
    assert not DirtyDay.objects.exists()


def test_prune_deletes_raw_events_older_than_the_retention_and_keeps_aggregates(
    player, settings, today, session
):
    session(player, 11)
    session(player, 10)
    call_command("aggregate_analytics", "--from", str(today - timedelta(days=11)), "--no-progress")
    settings.ANALYTICS_RAW_RETENTION_DAYS = 10

    deleted = tasks.prune_raw_events.delay().get()

    assert deleted == 1
    assert list(RawEvent.objects.values_list("day", flat=True)) == [today - timedelta(days=10)]
    assert PlayerDay.objects.filter(day=today - timedelta(days=11)).exists()
    assert DailyMetrics.objects.get(day=today - timedelta(days=11)).dau == 1


def test_days_before_the_retention_keep_their_numbers_when_rebuilt(
    player, settings, today, session
):
    old = today - timedelta(days=20)
    record_server_event(
        game_id=player.game_id,
        player_id=player.pk,
        name="player_created",
        occurred_at=datetime.combine(old, time(9), tzinfo=UTC),
    )
    session(player, 20)
    call_command("aggregate_analytics", "--from", str(old), "--no-progress")
    RawEvent.objects.all().delete()  # as pruning would, once they are older than the retention
    settings.ANALYTICS_RAW_RETENTION_DAYS = 15

    call_command("aggregate_analytics", "--from", str(old), "--no-progress")

    assert DailyMetrics.objects.get(day=old).dau == 1
    assert PlayerDay.objects.filter(day=old).exists()
    assert RetentionCell.objects.get(cohort_day=old, day_offset=0).retained == 1


def test_command_rebuilds_a_range_for_one_game_with_a_progress_bar(
    player, other_player, today, session
):
    session(player, 3)
    session(other_player, 3)
    out, err = StringIO(), StringIO()

    call_command(
        "aggregate_analytics",
        "--from",
        str(today - timedelta(days=6)),
        "--to",
        str(today - timedelta(days=2)),
        "--game",
        player.game.slug,
        "--chunk-days",
        "2",
        stdout=out,
        stderr=err,
    )

    assert "Aggregated 5 day(s) for 1 game(s)." in out.getvalue()
    assert "3/3" in err.getvalue()  # three chunks of at most two days
    assert DailyMetrics.objects.filter(game=player.game).count() == 5
    assert not DailyMetrics.objects.filter(game=other_player.game).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2026-13-01"],
        ["--from", "2026-02-02", "--to", "2026-02-01"],
        ["--game", "nope"],
        ["--chunk-days", "0"],
    ],
)
def test_command_refuses_bad_arguments(db, args):
    with pytest.raises(CommandError):
        call_command("aggregate_analytics", *args, "--no-progress")
    assert not DailyMetrics.objects.exists()


def test_command_with_an_end_in_the_calendars_first_days_is_no_traceback(db):
    out = StringIO()

    # No --from: the 30 days to --to, which start before the calendar (an OverflowError).
    call_command("aggregate_analytics", "--to", "0001-01-05", "--no-progress", stdout=out)

    assert "Aggregated 5 day(s)" in out.getvalue()
    assert not DailyMetrics.objects.exists()  # older than the raw retention: kept as they are


def test_command_with_chunks_longer_than_a_timedelta_runs_one_chunk(player, today, session):
    session(player, 3)

    call_command("aggregate_analytics", "--chunk-days", "1000000000", "--no-progress")

    assert DailyMetrics.objects.get(game=player.game, day=today - timedelta(days=3)).dau == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_celery_worker_runs_the_beat_aggregation(
    celery_worker_process, player, today, session
):
    import time as clock

    session(player, 0)

    tasks.aggregate_recent_days.delay()

    deadline = clock.monotonic() + 30
    while not DailyMetrics.objects.filter(game=player.game, day=today, dau=1).exists():
        assert clock.monotonic() < deadline, "the worker did not aggregate within 30 s"
        clock.sleep(0.2)


def figures(game_id: int) -> tuple[dict, dict]:
    daily = {
        day: (dau, mau)
        for day, dau, mau in DailyMetrics.objects.filter(game_id=game_id).values_list(
            "day", "dau", "mau"
        )
    }
    cells = {
        (cohort, offset): retained
        for cohort, offset, retained in RetentionCell.objects.filter(game_id=game_id).values_list(
            "cohort_day", "day_offset", "retained"
        )
    }
    return daily, cells


@pytest.fixture
def created(today: date) -> Callable[[Player, int], None]:
    """Records a player's creation at 08:00 UTC, `days_ago` days before the test's today."""

    def record(player: Player, days_ago: int) -> None:
        when = datetime.combine(today - timedelta(days=days_ago), time(8), tzinfo=UTC)
        record_server_event(
            game_id=player.game_id, player_id=player.pk, name="player_created", occurred_at=when
        )

    return record


@pytest.fixture
def history(player, other_player, settings, today, session, created):
    """Three players of a game active over 110 days, aggregated while every raw event was kept,
    then a raw retention of 40 days: the days from today-40 on can still be recomputed."""
    settings.ANALYTICS_RAW_RETENTION_DAYS = 400
    more = [Player.objects.create(game=player.game, display_name=f"p{n}") for n in range(2)]
    for who, cohort, active in (
        (player, 110, [110, 100, 71]),  # last seen the day before the kept player-days
        (more[0], 75, [75, 69, 20]),  # only today-69 puts it in the MAU of today-40
        (more[1], 45, [45, 44, 30, 15, 1]),  # a cohort before the raw retention, active after
        (other_player, 90, [90, 80, 2]),  # another game, pruned too
    ):
        created(who, cohort)
        for days_ago in active:
            session(who, days_ago)
    call_command("aggregate_analytics", "--from", str(today - timedelta(days=110)), "--no-progress")
    settings.ANALYTICS_RAW_RETENTION_DAYS = 40
    return player.game_id, other_player.game_id


def test_prune_deletes_player_days_30_days_older_than_the_raw_retention_in_batches(
    history, monkeypatch, today
):
    monkeypatch.setattr(maintenance, "PRUNE_BATCH", 2)
    before = {day for day in PlayerDay.objects.values_list("day", flat=True)}
    assert min(before) == today - timedelta(days=110)

    tasks.prune_raw_events.delay().get()

    kept = set(PlayerDay.objects.values_list("day", flat=True))
    assert kept == {day for day in before if day >= today - timedelta(days=70)}
    assert today - timedelta(days=69) in kept  # read by the MAU of today-40
    assert set(PlayerDay.objects.values_list("game_id", flat=True)) == set(history)


@pytest.mark.parametrize(
    "kept_past_raw, unchanged",
    [
        (None, True),  # as configured: 30 days past the raw retention
        (28, False),  # one day short of the MAU's window: the test would see it
    ],
)
def test_figures_of_days_still_recomputable_are_unchanged_after_the_prune(
    history, monkeypatch, kept_past_raw, unchanged, today
):
    if kept_past_raw is not None:
        monkeypatch.setattr(maintenance, "PLAYER_DAYS_KEPT_PAST_RAW", kept_past_raw)
    game_ids = history
    for game_id in game_ids:  # as they read with the raw retention of 40 days, before the prune
        aggregate_days_of(game_id, today=today)
    expected = [figures(game_id) for game_id in game_ids]

    maintenance.prune_raw_events()
    for game_id in game_ids:
        aggregate_days_of(game_id, today=today)

    assert ([figures(game_id) for game_id in game_ids] == expected) is unchanged
    daily, cells = figures(game_ids[0])
    if unchanged:
        assert daily[today - timedelta(days=40)] == (0, 2)  # the today-69 player counted
        assert cells[(today - timedelta(days=45), 30)] == 1  # kept, as older than the retention


def aggregate_days_of(game_id: int, *, today: date) -> None:
    call_command(
        "aggregate_analytics",
        "--from",
        str(today - timedelta(days=110)),
        "--game",
        Game.objects.get(pk=game_id).slug,
        "--no-progress",
    )
