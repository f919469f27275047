"""Repairs of the rank index (apps.leaderboards.index) that no request makes, run every minute
from beat: the drops Redis failed to make when asked (recorded in RankIndexDrop), and a check of
ready indexes' member counts against PostgreSQL, for an update lost without an error anyone saw
(the web process died between a commit and its index update)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.leaderboards import index
from apps.leaderboards.models import Period, RankIndexDrop
from apps.leaderboards.services.ranking import indexable_counts

# Recorded drops done per run, in one Redis round trip: more than any outage leaves.
DROPS_PER_RUN = 1000
# Open periods whose count is checked per run (one count query each, ranking.indexable_counts):
# each is checked every ceil(open periods / CHECKS_PER_RUN) runs, one of
# LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES members or more at most every
# LEADERBOARD_INDEX_CHECK_LARGE_MINUTES.
CHECKS_PER_RUN = 20
# A timed ban that ended within this long may still be left out of the index: the beat puts
# the player back within a minute (ranking.restore_lapsed_bans).
LAPSED_BAN_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Repaired:
    dropped: int  # recorded drops done
    checked: int  # ready indexes whose count was compared
    wrong: list[int]  # periods whose index was found wrong (and dropped)


def repair_rank_indexes(*, now: datetime | None = None) -> Repaired:
    if not index.enabled():
        return Repaired(0, 0, [])
    dropped = drop_recorded()
    checked, wrong = check_counts(now=now)
    return Repaired(dropped, checked, wrong)


def drop_recorded(*, limit: int = DROPS_PER_RUN) -> int:
    """Drop the indexes recorded as to be dropped, once Redis answers; how many were dropped
    (0 while Redis still fails: the next run tries again)."""
    recorded = list(
        RankIndexDrop.objects.order_by("recorded_at").values_list("period_id", "token")[:limit]
    )
    if not recorded or not index.forget(*[period_id for period_id, _ in recorded]):
        return 0
    RankIndexDrop.objects.filter(token__in=[token for _, token in recorded]).delete()
    return len(recorded)


def check_counts(
    *, now: datetime | None = None, limit: int = CHECKS_PER_RUN
) -> tuple[int, list[int]]:
    """Compare the member count of the ready indexes of up to `limit` open periods, taken in
    turn from where the last run stopped, with PostgreSQL's count of their entries; drop those
    that differ (the next rank read rebuilds them). Answers how many were compared, and the
    periods dropped.

    A count catches a member missing or extra (a lost first score, removal, ban or unban), not
    a lost change of a score already in the index. An update in flight (committed, its index
    update not yet applied) makes a count differ for a moment: a verdict needs the index's count
    to stay still while PostgreSQL counts, and to differ twice in a row. A verdict during a long
    ban's following (a segment of thousands) may still be wrong: it costs a rebuild, which reads
    PostgreSQL, never a wrong rank."""
    after = index.check_cursor()
    open_periods = Period.objects.filter(state=Period.State.OPEN).order_by("pk")
    period_ids = list(open_periods.filter(pk__gt=after).values_list("pk", flat=True)[:limit])
    if len(period_ids) < limit:  # round again from the first
        period_ids += open_periods.filter(pk__lte=after).values_list("pk", flat=True)[
            : limit - len(period_ids)
        ]
    if not period_ids:
        return 0, []
    checked = 0
    wrong = []
    for period_id in period_ids:
        verdict = _count_differs(period_id, now)
        if verdict is None:
            # Not ready: rebuilt from PostgreSQL by the next rank read anyway. Or a large one
            # counted in the last minutes.
            continue
        checked += 1
        if verdict and _count_differs(period_id, now, again=True):
            wrong.append(period_id)
    index.set_check_cursor(period_ids[-1])
    index.drop(wrong, because="leaderboard index: its member count differs from PostgreSQL's")
    return checked, wrong


def _count_differs(period_id: int, now: datetime | None, *, again: bool = False) -> bool | None:
    """Whether the ready index's member count is not what PostgreSQL's entries make it; None
    when the index is not ready (or Redis cannot say), or it is a large one counted lately
    (`again`: the second count of a verdict, always made)."""
    before = index.indexed_count(period_id)
    if before is None:
        return None
    if not again and not _due(period_id, before):
        return None
    now = now or timezone.now()
    # Players whose ban ended within the grace may be in the index or not yet.
    surely, at_most = indexable_counts(period_id, now - LAPSED_BAN_GRACE, now)
    if index.indexed_count(period_id) != before:
        return False  # changed while PostgreSQL counted: no verdict this time
    return not surely <= before <= at_most


def _due(period_id: int, members: int) -> bool:
    """Whether to count the period in this run: a period of LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES
    members or more (its count reads that many index entries) only once every
    LEADERBOARD_INDEX_CHECK_LARGE_MINUTES, whatever its turn."""
    minutes = settings.LEADERBOARD_INDEX_CHECK_LARGE_MINUTES
    if minutes <= 0 or members < settings.LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES:
        return True
    return index.claim_count_check(period_id, seconds=minutes * 60)
