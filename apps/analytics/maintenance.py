"""What Celery beat runs: re-aggregate recent and late days, prune old raw events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.accounts.models import Game
from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import DirtyDay, RawEvent
from apps.analytics.services import RECENT_DAYS

logger = logging.getLogger(__name__)

PRUNE_BATCH = 10_000
# Days every run recomputes: one more than the days a late event leaves unmarked (today and
# yesterday). An event stored on day D for D-1 is not marked, and the last run of D may have
# come before it: the runs of D+1 still recompute D-1.
RECOMPUTED_DAYS = RECENT_DAYS + 1


def aggregate_recent(*, today: date | None = None) -> int:
    """Recompute the last RECOMPUTED_DAYS days for every game, and every day a late event
    dirtied. Returns how many (game, run of days) ranges were aggregated."""
    today = today or timezone.now().date()
    recent = {today - timedelta(days=n) for n in range(RECOMPUTED_DAYS)}
    dirty: dict[int, list[DirtyDay]] = {}
    for row in DirtyDay.objects.order_by("game_id", "day"):
        dirty.setdefault(row.game_id, []).append(row)
    ranges = 0
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
        rows = dirty.get(game_id, [])
        try:
            for start, end in _runs(recent | {row.day for row in rows}):
                aggregate_days(game_id=game_id, start=start, end=end, today=today)
                ranges += 1
        except DatabaseError:
            # One game's numbers that cannot be summed (amounts past what a bigint holds)
            # must not stop every game after it: logged, its dirty days kept for the next run.
            logger.exception("ALERT analytics aggregation of game %s failed", game_id)
            continue
        for row in rows:
            # Keep a day that got another late event while we aggregated it.
            DirtyDay.objects.filter(pk=row.pk, marked_at__lte=row.marked_at).delete()
    return ranges


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
    """Delete raw events older than the retention, in short batches (aggregates are kept)."""
    today = today or timezone.now().date()
    cutoff = today - timedelta(days=settings.ANALYTICS_RAW_RETENTION_DAYS)
    deleted = 0
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
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
