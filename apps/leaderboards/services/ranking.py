# ruff: noqa: S608 - only table names and constants are interpolated; values are parameters.
"""The rank index (apps.leaderboards.index) kept from PostgreSQL: what one entry change means for
it, and the rebuild of a period's index from the entries (after Redis lost it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards import index
from apps.leaderboards.models import Entry, Period
from gamingpanel.sql import CompiledQuery, aware

log = logging.getLogger(__name__)

REBUILD_BATCH = 5000

# Entries of players not banned at a moment (now: as the index holds them): the rebuild reads
# these rows; the repair task counts them as every entry less the banned players' (the same
# rule the other way round, _indexable_count_sql: a test holds the two to one answer).
_INDEXABLE_ENTRIES = """
      FROM {entry} e JOIN {player} p ON p.id = e.player_id
     WHERE e.period_id = %s AND (p.banned_until IS NULL OR p.banned_until <= %s)
"""
INDEXABLE = CompiledQuery.compile(
    "SELECT e.player_id, e.version, e.rank_key, e.reached_at" + _INDEXABLE_ENTRIES,
    entry=Entry,
    player=Player,
)


def _indexable_count_sql(moments: int) -> str:
    """The same rule counted the cheap way round, for `moments` moments at once: every entry of
    the period (a count along its index, no player read) less those of players banned at each
    moment (found from the few banned players, along the partial index on banned_until, each
    entry by (period, player)). Joining every entry to its player instead read both tables
    whole: 1.3 s for a period of 2M entries, and the repair counts each period at two moments.
    One statement: both counts from one snapshot. `IS NOT NULL`, implied by the comparison, is
    for a generic plan of the prepared statement: without it PostgreSQL takes a third of all
    players for banned, and hashes every entry of the period instead."""
    banned = ", ".join(["count(CASE WHEN p.banned_until > %s THEN 1 END)"] * moments)
    return f"""
        SELECT (SELECT count(*) FROM {{entry}} WHERE period_id = %s), {banned}
          FROM {{player}} p JOIN {{entry}} e ON e.player_id = p.id AND e.period_id = %s
         WHERE p.banned_until IS NOT NULL AND p.banned_until > %s
        """


# For one moment and for two (the repair's: now, and before the lapsed-ban grace).
INDEXABLE_COUNTS = {
    moments: CompiledQuery.compile(_indexable_count_sql(moments), entry=Entry, player=Player)
    for moments in (1, 2)
}


def indexable_counts(period_id: int, *moments: datetime) -> list[int]:
    """How many of the period's entries the index holds as of each moment (one or two), in one
    query."""
    found = INDEXABLE_COUNTS[len(moments)].row([period_id, *moments, period_id, min(moments)])
    assert found is not None
    total, *banned = found
    return [total - count for count in banned]


def change_for(
    *, player_id: int, version: int, rank_key: int, reached_at: datetime
) -> index.Change:
    member = index.member_of(rank_key=rank_key, reached_at=reached_at, player_id=player_id)
    return index.Change(player_id=player_id, version=version, member=member)


def removal_for(*, player_id: int, version: int) -> index.Change:
    return index.Change(player_id=player_id, version=version, member="")


def newer_version(now: int, stored: int) -> int:
    """The version of a ban's change (or its end's) to an entry whose stored version is
    `stored`, at the clock's version `now`: newer than the entry, and than the one write a
    submission that began before the ban may still add to it (receivers._follow_batch)."""
    return max(now, stored + 2)


def rebuild_index(*, period_id: int, token: str | None = None) -> int:
    """Put every indexable entry of the period into its emptied index, then mark it ready. Runs
    while scores arrive: those committed after the emptying carry newer versions and win.
    `token`: the build's, from index.claim_build (without one, this call takes the lock).
    Only an open period has an index: a build asked for by a reader that still took a closed
    period for open (its cache, a second at most) builds nothing, and one that a close
    overtook is let go again; nothing else would ever delete those keys. A build that loses
    its lock or fails to apply a batch stops, leaving the index not ready (ranks are counted
    in PostgreSQL) for the next rank read to build again: a partial index is never ready."""
    if not _is_open(period_id):
        index.drop([period_id])
        return 0
    token = token or index.claim_build(period_id, force=True)
    if token is None:
        return 0  # no Redis
    run_id = index.start_build(period_id, token)
    if run_id is None:
        return 0
    count = 0
    with connection.cursor() as cursor:
        # A plain cursor: on PostgreSQL psycopg fetches the rows as they are asked for in
        # batches, without Django's model machinery (a million entries take seconds, not a
        # minute).
        cursor.execute(
            INDEXABLE.sql, [period_id, connection.ops.adapt_datetimefield_value(timezone.now())]
        )
        while rows := cursor.fetchmany(REBUILD_BATCH):
            batch = [
                change_for(
                    player_id=player_id,
                    version=version,
                    rank_key=rank_key,
                    reached_at=aware(reached_at),
                )
                for player_id, version, rank_key, reached_at in rows
            ]
            if not index.apply(period_id, batch, build=token):
                log.warning("leaderboard index rebuild of period %s stopped", period_id)
                return 0
            count += len(batch)
    if not index.finish_build(period_id, token, run_id):
        log.warning(
            "leaderboard index rebuild of period %s lost its lock (or Redis restarted)", period_id
        )
        return 0
    if not _is_open(period_id):
        index.drop([period_id])  # closed meanwhile: its close let go of the keys before these
    return count


def _is_open(period_id: int) -> bool:
    return Period.objects.filter(pk=period_id, state=Period.State.OPEN).exists()


# A timed ban that ended within this long ago puts the player's entries back in the index (the
# beat task runs every minute; an unban by an operator does it at once, apps.leaderboards.receivers).
# A beat that was down catches up on this much.
LAPSED_BAN_WINDOW = timedelta(days=1)
# Players read at a time, with their entries in open periods.
LAPSED_BAN_BATCH = 1000


def restore_lapsed_bans(*, now: datetime | None = None) -> int:
    """Entries of players whose timed ban ended in the last LAPSED_BAN_WINDOW and that the index
    still leaves out (the ban took them out; nothing else tells it the ban is over), put back
    in every open period whose index is ready. Answers how many went back.

    Players are read in batches in the order their bans ended, from the last one already
    followed (a mark kept in Redis), so each lapsed ban is read once, not every minute for a day.
    The mark moves past a player only once no period can still miss them: its index took them
    back (or held them), or it has none and no build under way (the next one reads PostgreSQL
    after the ban ended). Past a period being rebuilt (its build may have read PostgreSQL while
    the ban lasted) the mark stays, and the next run reads those players again."""
    now = now or timezone.now()
    if not index.enabled():
        return 0  # no Redis: no index
    since = now - LAPSED_BAN_WINDOW
    mark = index.lapsed_mark()
    after = mark if mark is not None and mark[0] > since else (since, 0)
    settled = True
    restored = 0
    while True:
        lapsed = list(
            Player.objects.filter(banned_until__lte=now)
            .filter(Q(banned_until__gt=after[0]) | Q(banned_until=after[0], pk__gt=after[1]))
            .order_by("banned_until", "pk")
            .values_list("banned_until", "pk")[:LAPSED_BAN_BATCH]
        )
        if not lapsed:
            break
        back, complete = _restore_players([player_id for _, player_id in lapsed], now)
        restored += back
        settled = settled and complete
        after = (cast(datetime, lapsed[-1][0]), lapsed[-1][1])
        if settled:
            index.mark_lapsed(*after, keep=LAPSED_BAN_WINDOW)
        if len(lapsed) < LAPSED_BAN_BATCH:
            break
    return restored


def _restore_players(player_ids: list[int], now: datetime) -> tuple[int, bool]:
    """Put these players' entries back where a ready index leaves them out. Answers how many
    went back, and whether no index can still miss them (False: a period is being rebuilt)."""
    by_period: dict[int, list[tuple[int, int, int, datetime]]] = {}
    for period_id, player_id, version, rank_key, reached_at in Entry.objects.filter(
        player_id__in=player_ids, period__state=Period.State.OPEN
    ).values_list("period_id", "player_id", "version", "rank_key", "reached_at"):
        by_period.setdefault(period_id, []).append((player_id, version, rank_key, reached_at))
    restored = 0
    complete = True
    version_now = index.version_at(now)
    for period_id, entries in by_period.items():
        # Building asked first: a build that read them banned and finished between the two
        # reads is then seen ready (and they are put back), never taken for no build at all.
        building = index.is_building(period_id)
        missing = index.left_out(period_id, [player_id for player_id, *_ in entries])
        if missing is None:
            # Not ready: a build under way may have read them banned; a later one reads
            # PostgreSQL after their bans ended.
            complete = complete and not building
            continue
        changes = [
            change_for(
                player_id=player_id,
                version=newer_version(version_now, version),
                rank_key=rank_key,
                reached_at=aware(reached_at),
            )
            for player_id, version, rank_key, reached_at in entries
            if player_id in missing
        ]
        if not index.apply(period_id, changes):
            complete = False  # dropped the index; its next build reads them, the mark waits
            continue
        restored += len(changes)
    return restored, complete
