"""What Celery beat runs: re-aggregate recent and late days, prune old raw events and
player-days."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.accounts.models import Game
from apps.analytics.aggregation import (
    MAU_WINDOW_DAYS,
    RETENTION_OFFSETS,
    aggregate_days,
    days_before,
)
from apps.analytics.models import DirtyDay, PlayerDay, RawEvent, RecentRun
from apps.analytics.services import RECENT_DAYS, mark_late_days

logger = logging.getLogger(__name__)

PRUNE_BATCH = 10_000
# Days every run recomputes: one more than the days a late event leaves unmarked (today and
# yesterday). An event stored on day D for D-1 is not marked, and the last run of D may have
# come before it: the runs of D+1 still recompute D-1.
RECOMPUTED_DAYS = RECENT_DAYS + 1
# How many days before the raw retention player-days are still read: aggregation recomputes days
# from the raw retention on, with the MAU of each (its 29 days before) and the retention of the
# cohorts up to 30 days before the first (their player-days from the cohort day on). Older ones
# are read by nothing: the dashboards read the daily tables, which are kept.
PLAYER_DAYS_KEPT_PAST_RAW = max(MAU_WINDOW_DAYS - 1, max(RETENTION_OFFSETS))


def aggregate_recent(*, today: date | None = None) -> int:
    """Recompute the last RECOMPUTED_DAYS days for every game, every day a late event dirtied,
    and every day since the game's last run (after an outage of the beat). Returns how many
    (game, run of days) ranges were aggregated."""
    today = today or timezone.now().date()
    _mark_days_since_last_run(today)
    recent = (today - timedelta(days=RECOMPUTED_DAYS - 1), today)
    dirty: dict[int, list[DirtyDay]] = {}
    for row in DirtyDay.objects.order_by("game_id", "day"):
        dirty.setdefault(row.game_id, []).append(row)
    ranges = 0
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
        rows = dirty.get(game_id, [])
        # The recent days run on their own, first: a late day that fails cannot hold them back.
        runs = [recent, *_runs({row.day for row in rows if row.day < recent[0]})]
        for start, end in runs:
            for lo, hi in _aggregate(game_id, start, end, today):
                ranges += 1
                for row in rows:
                    if lo <= row.day <= hi:
                        # Kept if another late event marked it while we aggregated it.
                        DirtyDay.objects.filter(pk=row.pk, version=row.version).delete()
    return ranges


def _aggregate(game_id: int, start: date, end: date, today: date) -> list[tuple[date, date]]:
    """Aggregate start..end, or if that fails each of its days alone; returns what succeeded.

    A day that cannot be aggregated (amounts past what a bigint holds) must not stop its
    neighbours, its game's other days or the games after it: logged, and marked dirty (a recent
    day too, so it is retried once it is no longer recent)."""
    try:
        aggregate_days(game_id=game_id, start=start, end=end, today=today)
    except DatabaseError:
        if start == end:
            logger.exception("ALERT analytics aggregation of game %s failed for %s", game_id, start)
            mark_late_days(game_id=game_id, days=[start], today=today)
            return []
    else:
        return [(start, end)]
    done = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        done += _aggregate(game_id, day, day, today)
    return done


def _mark_days_since_last_run(today: date) -> None:
    """Mark dirty the days before the recent ones that the runs since a game's last one would
    have recomputed: from the day before that run's today (late events stored after it)."""
    first_recent = today - timedelta(days=RECOMPUTED_DAYS - 1)
    last_runs = dict(RecentRun.objects.values_list("game_id", "day"))
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
        last = last_runs.get(game_id)
        if last is not None and last >= today:
            continue
        with transaction.atomic():
            if last is not None:
                missed = last - timedelta(days=1)
                days = [missed + timedelta(days=n) for n in range((first_recent - missed).days)]
                mark_late_days(game_id=game_id, days=days, today=today)
            RecentRun.objects.update_or_create(game_id=game_id, defaults={"day": today})


def rebuild(
    *,
    game_ids: list[int],
    start: date,
    end: date,
    on_chunk: Callable[[date, date], None] | None = None,
    chunk_days: int = 7,
) -> None:
    for game_id in game_ids:
        aggregate_days(
            game_id=game_id, start=start, end=end, chunk_days=chunk_days, on_chunk=on_chunk
        )


def prune_raw_events(*, today: date | None = None) -> int:
    """Delete raw events older than the retention, and player-days PLAYER_DAYS_KEPT_PAST_RAW
    days older still, in short batches (aggregates are kept). Returns how many raw events went."""
    today = today or timezone.now().date()
    # A retention longer than the calendar keeps every day (aggregation.days_before).
    cutoff = days_before(today, settings.ANALYTICS_RAW_RETENTION_DAYS)
    deleted = player_days = 0
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
        player_days += _prune_player_days(
            game_id, before=days_before(cutoff, PLAYER_DAYS_KEPT_PAST_RAW)
        )
        while True:
            with transaction.atomic():
                batch = list(
                    RawEvent.objects.filter(game_id=game_id, day__lt=cutoff).values_list(
                        "pk", flat=True
                    )[:PRUNE_BATCH]
                )
                if not batch:
                    break
                deleted += RawEvent.objects.filter(pk__in=batch).delete()[0]
    DirtyDay.objects.filter(day__lt=cutoff).delete()
    if player_days:
        logger.info("analytics prune: %s player-days", player_days)
    return deleted


def _prune_player_days(game_id: int, *, before: date) -> int:
    """The game's player-days before `before`, PRUNE_BATCH a statement (each its own
    transaction): the batch's keys found through the (game, day) index, each row by its key."""
    old = PlayerDay.objects.filter(game_id=game_id, day__lt=before)
    deleted = 0
    while True:
        batch = PlayerDay.objects.filter(pk__in=old.values("pk")[:PRUNE_BATCH]).delete()[0]
        deleted += batch
        if batch < PRUNE_BATCH:
            return deleted


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
