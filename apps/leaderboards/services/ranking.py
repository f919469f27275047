"""The rank index (apps.leaderboards.index) kept from PostgreSQL: what one entry change means for
it, and the rebuild of a period's index from the entries (after Redis lost it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards import index
from apps.leaderboards.models import Entry, Period
from gamingpanel.sql import CompiledQuery, aware

log = logging.getLogger(__name__)

REBUILD_BATCH = 5000

# Entries of players not banned now, as the index holds them.
INDEXABLE = CompiledQuery.compile(
    """
    SELECT e.player_id, e.version, e.rank_key, e.reached_at
      FROM {entry} e JOIN {player} p ON p.id = e.player_id
     WHERE e.period_id = %s AND (p.banned_until IS NULL OR p.banned_until <= %s)
    """,
    entry=Entry,
    player=Player,
)


def change_for(
    *, player_id: int, version: int, rank_key: int, reached_at: datetime
) -> index.Change:
    member = index.member_of(rank_key=rank_key, reached_at=reached_at, player_id=player_id)
    return index.Change(player_id=player_id, version=version, member=member)


def removal_for(*, player_id: int, version: int) -> index.Change:
    return index.Change(player_id=player_id, version=version, member="")


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
        index.forget(period_id)
        return 0
    token = token or index.claim_build(period_id, force=True)
    if token is None:
        return 0  # no Redis
    if not index.start_build(period_id, token):
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
    if not index.finish_build(period_id, token):
        log.warning("leaderboard index rebuild of period %s lost its lock", period_id)
        return 0
    if not _is_open(period_id):
        index.forget(period_id)  # closed meanwhile: its close let go of the keys before these
    return count


def _is_open(period_id: int) -> bool:
    return Period.objects.filter(pk=period_id, state=Period.State.OPEN).exists()


# A timed ban that ended within this long ago puts the player's entries back in the index (the
# beat task runs every minute; an unban by an operator does it at once, apps.leaderboards.receivers).
LAPSED_BAN_WINDOW = timedelta(days=1)

LAPSED_BAN_ENTRIES = CompiledQuery.compile(
    """
    SELECT e.period_id, e.player_id, e.version, e.rank_key, e.reached_at
      FROM {player} p
      JOIN {entry} e ON e.player_id = p.id
      JOIN {period} r ON r.id = e.period_id
     WHERE p.banned_until > %s AND p.banned_until <= %s AND r.state = %s
    """,
    entry=Entry,
    player=Player,
    period=Period,
)


def restore_lapsed_bans(*, now: datetime | None = None) -> int:
    """Entries of players whose timed ban ended in the last LAPSED_BAN_WINDOW and that the index
    still leaves out (the ban took them out; nothing else tells it the ban is over), put back
    in every open period whose index is ready. Answers how many went back."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            LAPSED_BAN_ENTRIES.sql,
            [
                connection.ops.adapt_datetimefield_value(now - LAPSED_BAN_WINDOW),
                connection.ops.adapt_datetimefield_value(now),
                Period.State.OPEN,
            ],
        )
        rows = cursor.fetchall()
    by_period: dict[int, list[tuple[int, int, int, datetime]]] = {}
    for period_id, player_id, version, rank_key, reached_at in rows:
        by_period.setdefault(period_id, []).append((player_id, version, rank_key, reached_at))
    restored = 0
    version_now = index.version_at(now)
    for period_id, entries in by_period.items():
        missing = index.left_out(period_id, [player_id for player_id, *_ in entries])
        changes = [
            change_for(
                player_id=player_id,
                version=max(version_now, version + 1),
                rank_key=rank_key,
                reached_at=aware(reached_at),
            )
            for player_id, version, rank_key, reached_at in entries
            if player_id in missing
        ]
        index.apply(period_id, changes)
        restored += len(changes)
    return restored
