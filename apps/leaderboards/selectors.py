# ruff: noqa: S608 - only table names and constants are interpolated; values are parameters.
"""Reads: a game's boards and their open periods, the top of a period from a cursor, a player's
rank and the entries around it, a closed period's final standings.

Lists come from PostgreSQL along one index (period, rank key, reached_at, player) from a keyset
cursor, leaving out players banned now; a rank number comes from the Redis rank index in one
round trip (apps.leaderboards.index), else from a count in PostgreSQL while the index is rebuilt.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards import index
from apps.leaderboards.errors import BoardNotFound, InvalidCursor, PeriodNotFound
from apps.leaderboards.models import Board, Entry, Period
from apps.leaderboards.queued import rebuild_rank_index
from apps.leaderboards.services.periods import open_period
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledQuery, aware

MAX_LIMIT = 100
MAX_RADIUS = 25

# A board by slug, read by every leaderboard request: an edit shows within 2 s.
_boards: ShortCache[Board] = ShortCache(seconds=2)
# A board's open period: after a close, reads may show the closed one for up to 1 s (a score
# always lands in the open one: submissions look under the period's lock).
_open_periods: ShortCache[Period] = ShortCache(seconds=1)


def board_for(*, game_id: int, slug: str) -> Board:
    board = _boards.get_or_load(
        (game_id, slug),
        lambda: Board.objects.filter(game_id=game_id, slug=slug).select_related("game").first(),
    )
    if board is None:
        raise BoardNotFound(f"This game has no leaderboard {slug!r}.", board=slug)
    return board


def current_period(board: Board) -> Period:
    period = _open_periods.get_or_load(board.pk, lambda: open_period(board=board))
    assert period is not None
    return period


def boards_of_game(*, game_id: int) -> list[tuple[Board, Period]]:
    boards = list(Board.objects.filter(game_id=game_id).order_by("slug"))
    return [(board, current_period(board)) for board in boards]


def closed_period(*, board: Board, number: int) -> Period:
    period = Period.objects.filter(board=board, number=number, state=Period.State.CLOSED).first()
    if period is None:
        raise PeriodNotFound(f"{board.name} has no closed period {number}.", period=number)
    return period


def closed_periods(*, board: Board) -> QuerySet[Period]:
    return Period.objects.filter(board=board, state=Period.State.CLOSED).order_by("-number")


@dataclass(frozen=True)
class Ranked:
    rank: int
    player_id: int
    display_name: str
    score: int
    metadata: dict[str, Any]
    rank_key: int
    reached_at: datetime


_VISIBLE = "(p.banned_until IS NULL OR p.banned_until <= %s)"
_COLUMNS = "e.player_id, p.display_name, e.score, e.metadata, e.rank_key, e.reached_at"
_FROM = "{entry} e JOIN {player} p ON p.id = e.player_id"

AFTER = CompiledQuery.compile(
    f"""
    SELECT {_COLUMNS} FROM {_FROM}
     WHERE e.period_id = %s AND {_VISIBLE}
       AND (e.rank_key, e.reached_at, e.player_id) > (%s, %s, %s)
     ORDER BY e.rank_key, e.reached_at, e.player_id LIMIT %s
    """,
    entry=Entry,
    player=Player,
)
FIRST = CompiledQuery.compile(
    f"""
    SELECT {_COLUMNS} FROM {_FROM}
     WHERE e.period_id = %s AND {_VISIBLE}
     ORDER BY e.rank_key, e.reached_at, e.player_id LIMIT %s
    """,
    entry=Entry,
    player=Player,
)
BEFORE = CompiledQuery.compile(
    f"""
    SELECT {_COLUMNS} FROM {_FROM}
     WHERE e.period_id = %s AND {_VISIBLE}
       AND (e.rank_key, e.reached_at, e.player_id) < (%s, %s, %s)
     ORDER BY e.rank_key DESC, e.reached_at DESC, e.player_id DESC LIMIT %s
    """,
    entry=Entry,
    player=Player,
)
OWN = CompiledQuery.compile(
    f"""
    SELECT {_COLUMNS} FROM {_FROM}
     WHERE e.period_id = %s AND e.player_id = %s AND {_VISIBLE}
    """,
    entry=Entry,
    player=Player,
)
AHEAD = CompiledQuery.compile(
    f"""
    SELECT COUNT(*) FROM {_FROM}
     WHERE e.period_id = %s AND {_VISIBLE}
       AND (e.rank_key, e.reached_at, e.player_id) < (%s, %s, %s)
    """,
    entry=Entry,
    player=Player,
)


def _ranked(row: tuple[Any, ...], rank: int) -> Ranked:
    player_id, name, score, metadata, rank_key, reached_at = row
    return Ranked(
        rank=rank,
        player_id=player_id,
        display_name=name,
        score=score,
        metadata=json.loads(metadata) if isinstance(metadata, str | bytes) else metadata,
        rank_key=rank_key,
        reached_at=aware(reached_at),
    )


def encode_cursor(last: Ranked) -> str:
    text = f"{last.rank}:{last.rank_key}:{index.version_at(last.reached_at)}:{last.player_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int, datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        rank, rank_key, micros, player_id = (
            int(part) for part in base64.urlsafe_b64decode(padded).decode().split(":")
        )
        if rank < 1 or micros < 0:
            raise ValueError
        return rank, rank_key, index.EPOCH + micros * index.MICROSECOND, player_id
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError) as error:
        raise InvalidCursor("The cursor is not one this API gave.") from error


@dataclass(frozen=True)
class Page:
    period: Period
    results: list[Ranked]
    next_cursor: str | None


def top_entries(*, period: Period, limit: int, cursor: str | None = None) -> Page:
    """One indexed read of `limit` entries from the top or after the cursor."""
    now = timezone.now()
    if cursor:
        rank, rank_key, reached_at, player_id = decode_cursor(cursor)
        rows = AFTER.rows([period.pk, now, rank_key, reached_at, player_id, limit + 1])
    else:
        rank, rows = 0, FIRST.rows([period.pk, now, limit + 1])
    results = [_ranked(row, rank + n) for n, row in enumerate(rows[:limit], 1)]
    more = len(rows) > limit
    return Page(period, results, encode_cursor(results[-1]) if more and results else None)


def _rank_of(period: Period, own: Ranked) -> int:
    """1-based, among players not banned: the index's answer, else a count (and the index is
    rebuilt, by one caller, in a task)."""
    member = index.member_of(
        rank_key=own.rank_key, reached_at=own.reached_at, player_id=own.player_id
    )
    position = index.rank_of(period.pk, member)
    if position is None and index.claim_build(period.pk):
        rebuild_rank_index.delay(period.pk)
        position = index.rank_of(period.pk, member)  # a local (eager) task has rebuilt it
    if position is not None:
        return position + 1
    row = AHEAD.row([period.pk, timezone.now(), own.rank_key, own.reached_at, own.player_id])
    return (row[0] if row else 0) + 1


def player_entry(*, period: Period, player_id: int) -> Ranked | None:
    """A player's entry with its rank, or None (no entry, or banned)."""
    row = OWN.row([period.pk, player_id, timezone.now()])
    if row is None:
        return None
    own = _ranked(row, 0)
    return _ranked(row, _rank_of(period, own))


@dataclass(frozen=True)
class Around:
    period: Period
    entry: Ranked | None
    results: list[Ranked]  # the entries above, the player's, the entries below


def around_player(*, period: Period, player_id: int, radius: int) -> Around:
    own = player_entry(period=period, player_id=player_id)
    if own is None:
        return Around(period, None, [])
    now = timezone.now()
    keyset = [own.rank_key, own.reached_at, own.player_id]
    above = BEFORE.rows([period.pk, now, *keyset, radius])
    below = AFTER.rows([period.pk, now, *keyset, radius])
    return Around(
        period,
        own,
        [
            *(_ranked(row, own.rank - n) for n, row in reversed(list(enumerate(above, 1)))),
            own,
            *(_ranked(row, own.rank + n) for n, row in enumerate(below, 1)),
        ],
    )
