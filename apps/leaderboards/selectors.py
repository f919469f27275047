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
import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.accounts.models import Player
from apps.leaderboards import index
from apps.leaderboards.errors import BoardNotFound, InvalidCursor, PeriodNotFound
from apps.leaderboards.models import Board, Entry, Payout, Period, Submission
from apps.leaderboards.queued import rebuild_rank_index
from apps.leaderboards.services.periods import MAX_PERIODS_TO_CATCH_UP, open_period_now
from gamingpanel.queueing import enqueue
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledQuery, aware

MAX_LIMIT = 100
MAX_RADIUS = 25

# A board by slug, read by every leaderboard request: an edit shows within 2 s.
_boards: ShortCache[Board] = ShortCache(seconds=2)
# A board's open period: after a close, reads may show the closed one for up to 1 s (a score
# always lands in the open one: submissions look under the period's lock).
_open_periods: ShortCache[Period] = ShortCache(seconds=1)
# The first page of an open period's top, per page size: every player of a game reads the same
# one, and on a large board reading it is most of the request. A new score, a ban or an
# operator's removal shows in it within TOP_PAGE_SECONDS; the pages after it (a cursor), a
# player's rank and the entries around a player are read fresh.
TOP_PAGE_SECONDS = 1.0
_top_pages: ShortCache[JsonPage] = ShortCache(seconds=TOP_PAGE_SECONDS, max_entries=1_000)


def board_for(*, game_id: int, slug: str) -> Board:
    board = _boards.get_or_load(
        (game_id, slug),
        lambda: Board.objects.filter(game_id=game_id, slug=slug).select_related("game").first(),
    )
    if board is None:
        raise BoardNotFound(f"This game has no leaderboard {slug!r}.", board=slug)
    return board


def _first(rows: QuerySet, column: str) -> Subquery:
    """The first of `rows` along an index that orders them by `column` after the columns they
    are filtered on: a scalar subquery that reads one index entry, or none. An EXISTS over
    the rows instead may be planned as a scan of the whole table that stops at the first
    match, which reads every row when there is none (an empty board of a game whose few
    periods each hold millions of entries: seconds)."""
    return Subquery(rows.order_by(column).values(column)[:1])


def _periods_with_entries() -> QuerySet[Period]:
    """The periods, of the board in the outer query, holding an entry."""
    return (
        Period.objects.filter(board=OuterRef("pk"))
        .alias(entry=_first(Entry.objects.filter(period=OuterRef("pk")), "player"))
        .filter(entry__isnull=False)
    )


def holds_entries(board: Board) -> bool:
    """Whether any period of the board holds an entry: its ranking rules are then fixed."""
    return Board.objects.filter(pk=board.pk).filter(Exists(_periods_with_entries())).exists()


def boards_with_history(boards: list[Board]) -> set[int]:
    """Those of the boards a period of which holds an entry, a submission or a payout: one
    query of a few index reads per board and period, however many rows they hold. A
    submission is found by its board (the two unique indexes on its ids lead with it)."""
    periods = Period.objects.filter(board=OuterRef("pk"))
    paid = periods.alias(
        payout=_first(Payout.objects.filter(period=OuterRef("pk")), "player")
    ).filter(payout__isnull=False)
    submissions = Submission.objects.filter(board=OuterRef("pk"))
    return set(
        Board.objects.filter(pk__in=[board.pk for board in boards])
        .alias(
            server_submission=_first(submissions.filter(from_client=False), "submission_id"),
            client_submission=_first(submissions.filter(from_client=True), "player"),
        )
        .filter(
            Exists(_periods_with_entries())
            | Exists(paid)
            | Q(server_submission__isnull=False)
            | Q(client_submission__isnull=False)
        )
        .order_by()
        .values_list("pk", flat=True)
    )


def lock_for_deletion(boards: list[Board]) -> None:
    """Lock the boards' rows and their periods' for the caller's transaction: the boards first
    (as an admin save does), FOR NO KEY UPDATE, the lock an UPDATE takes. Not FOR UPDATE: a
    close holding a period commits the next one it opened by checking its board's key (KEY
    SHARE, which FOR UPDATE blocks) while the deletion waited for that period: a deadlock. The
    periods a close committed meanwhile are locked too (_lock_periods)."""
    ids = [board.pk for board in boards]
    list(
        Board.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk")
    )
    _lock_periods(Period.objects.filter(board_id__in=ids))


def lock_for_schedule_change(board: Board) -> bool:
    """Before a change of the board's ranking rules (game, source, stat, order, operator, reset,
    time zone), for the caller's transaction (the admin's save, then follow_schedule): the
    board's row FOR NO KEY UPDATE (as its UPDATE takes it, and first, as a deletion does), then
    its open period FOR UPDATE (as a close takes it): a score being written (holding both FOR
    SHARE) commits first, and one to come waits for the caller's commit and then finds the
    board's new rules (submit: it checks its copy's against the row) and the period's new end.
    Whether the board holds no entry, so the change may be made: one that does keeps the rules
    its entries were ranked and its open period windowed by."""
    # Of the board only: Board's ordering joins its game, which stays unlocked.
    list(
        Board.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=board.pk)
        .values_list("pk")
    )
    _lock_periods(Period.objects.filter(board_id=board.pk, state=Period.State.OPEN))
    return not holds_entries(board)


def _lock_periods(periods: QuerySet[Period]) -> None:
    """Lock the periods FOR UPDATE, in id order, and those committed while the lock waited,
    until the periods read hold none it left out: a close that held one of them commits the
    next period it opened (and the closed one is no longer open)."""
    locked: set[int] = set()
    for _ in range(MAX_PERIODS_TO_CATCH_UP):
        locked.update(
            periods.exclude(pk__in=locked)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if set(periods.values_list("pk", flat=True)) <= locked:
            return
    raise RuntimeError("the board's periods kept changing")  # pragma: no cover


def current_period(board: Board) -> Period:
    period = _open_periods.get_or_load(board.pk, lambda: open_period_now(board=board))
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


POSTGRES = connection.vendor == "postgresql"
_VISIBLE = "(p.banned_until IS NULL OR p.banned_until <= %s)"
_COLUMNS = "e.player_id, p.display_name, e.score, e.metadata, e.rank_key, e.reached_at"
# The same columns for rows read here (_ranked): on PostgreSQL the metadata as its JSON text and
# reached_at in microseconds since the epoch. psycopg's loaders for jsonb and timestamptz run in
# Python, and for the eleven rows of an around-me read they cost as much again as the rest of
# the statement (CPU per read: 180 µs, 105 µs this way).
_REACHED = "(EXTRACT(EPOCH FROM e.reached_at) * 1000000)::bigint" if POSTGRES else "e.reached_at"
_METADATA = "e.metadata::text" if POSTGRES else "e.metadata"
_ROW_COLUMNS = f"e.player_id, p.display_name, e.score, {_METADATA}, e.rank_key, {_REACHED}"
_FROM = "{entry} e JOIN {player} p ON p.id = e.player_id"


def _page_sql(columns: str, *, after: bool) -> str:
    """A page of entries: from the top, or after a cursor's (rank key, reached_at, player)."""
    keyset = "AND (e.rank_key, e.reached_at, e.player_id) > (%s, %s, %s)" if after else ""
    return f"""
    SELECT {columns} FROM {_FROM}
     WHERE e.period_id = %s AND {_VISIBLE} {keyset}
     ORDER BY e.rank_key, e.reached_at, e.player_id LIMIT %s
"""


def limit_bucket(rows: int) -> int:
    """The smallest power of two that holds `rows` (1 for none)."""
    return 1 << max(rows - 1, 0).bit_length()


class ByLimit:
    """A statement whose `LIMIT %s` is written in, one compiled statement per limit bucket
    (a power of two, at most `max_rows`: the largest page reads no row it will not answer), or
    with `exact` one per row count; callers trim the rows to the limit they asked for.

    With the limit a parameter, PostgreSQL's one plan for any limit assumed a tenth of the board
    and scanned it in parallel (10-20 ms on a million entries), so it planned these statements
    afresh on every call instead (0.25 ms for a top-100 page, 0.85 ms for around-me, more than
    running them). With the limit written in, it settles on one plan per bucket, as for every
    other compiled statement."""

    def __init__(self, text: str, *, max_rows: int, exact: bool = False) -> None:
        self.max_rows = max_rows
        self.exact = exact
        self._compiled = {
            bucket: CompiledQuery.compile(
                text.replace("LIMIT %s", f"LIMIT {bucket}"), entry=Entry, player=Player
            )
            for bucket in {self._bucket(rows) for rows in range(max_rows + 1)}
        }

    def limited(self, rows: int) -> CompiledQuery:
        if not 0 <= rows <= self.max_rows:
            raise ValueError(f"{rows} rows: at most {self.max_rows}")
        return self._compiled[self._bucket(rows)]

    def _bucket(self, rows: int) -> int:
        return rows if self.exact else min(limit_bucket(rows), self.max_rows)


AFTER = ByLimit(_page_sql(_ROW_COLUMNS, after=True), max_rows=MAX_LIMIT + 1)
FIRST = ByLimit(_page_sql(_ROW_COLUMNS, after=False), max_rows=MAX_LIMIT + 1)

# On PostgreSQL the same page, answered as the `results` JSON of the API (EntrySerializer's
# fields, in its order) plus the cursor's keys of the page's last entry: for 100 entries, the
# web process then parses and renders one string instead of 600 values.
_AS_JSON = """
    SELECT COALESCE(json_agg(json_build_object(
               'rank', %s + n, 'player_id', player_id, 'display_name', display_name,
               'score', score, 'metadata', metadata) ORDER BY n) FILTER (WHERE n <= %s), '[]')::text,
           count(*),
           max(rank_key) FILTER (WHERE n = %s),
           max((EXTRACT(EPOCH FROM reached_at) * 1000000)::bigint) FILTER (WHERE n = %s),
           max(player_id) FILTER (WHERE n = %s)
      FROM (SELECT row_number() OVER (ORDER BY rank_key, reached_at, player_id) AS n, page.*
              FROM ({page}) AS page) AS numbered
"""
AFTER_JSON = ByLimit(
    _AS_JSON.replace("{page}", _page_sql(_COLUMNS, after=True)), max_rows=MAX_LIMIT + 1
)
FIRST_JSON = ByLimit(
    _AS_JSON.replace("{page}", _page_sql(_COLUMNS, after=False)), max_rows=MAX_LIMIT + 1
)
# The player's entry and up to `radius` visible entries on each side, in one statement: side 0
# is the player's, -1 above (nearest first), 1 below. The player's keys come in as scalar
# subqueries (computed once, before the scans) so that each side is a range scan of the rank
# index from the player's place: compared with a joined row instead, PostgreSQL walked the index
# from the top and filtered (a million entries: seconds).
_OWN_KEY = "((SELECT k FROM own), (SELECT t FROM own), (SELECT i FROM own))"
# Each entry as EntrySerializer answers it but for the rank (which comes from the rank index
# after this statement), as JSON text the database builds: read as one string per row, and
# answered as it is, rather than parsed into values and rendered again.
_BODY = (
    "json_build_object('player_id', e.player_id, 'display_name', p.display_name,"
    " 'score', e.score, 'metadata', e.metadata)::text"
    if POSTGRES
    else "json_object('player_id', e.player_id, 'display_name', p.display_name,"
    " 'score', e.score, 'metadata', json(e.metadata))"
)
_AROUND_COLUMNS = f"e.rank_key, {_REACHED}, {_BODY}"
AROUND = ByLimit(
    f"""
    WITH own AS (
        SELECT e.rank_key AS k, e.reached_at AS t, e.player_id AS i FROM {_FROM}
         WHERE e.period_id = %s AND e.player_id = %s AND {_VISIBLE})
    SELECT * FROM (
        SELECT 0 AS side, {_AROUND_COLUMNS} FROM {_FROM}, own
         WHERE e.period_id = %s AND e.player_id = own.i) AS mine
    UNION ALL
    SELECT * FROM (
        SELECT -1 AS side, {_AROUND_COLUMNS} FROM {_FROM}
         WHERE e.period_id = %s AND {_VISIBLE}
           AND (e.rank_key, e.reached_at, e.player_id) < {_OWN_KEY}
         ORDER BY e.rank_key DESC, e.reached_at DESC, e.player_id DESC LIMIT %s) AS above
    UNION ALL
    SELECT * FROM (
        SELECT 1 AS side, {_AROUND_COLUMNS} FROM {_FROM}
         WHERE e.period_id = %s AND {_VISIBLE}
           AND (e.rank_key, e.reached_at, e.player_id) > {_OWN_KEY}
         ORDER BY e.rank_key, e.reached_at, e.player_id LIMIT %s) AS below
    """,
    # Each side's rows are joined to their players one by one: a bucket's extra rows (8 read
    # for a radius of 5) were a third of the statement's work on a million-entry board.
    max_rows=MAX_RADIUS,
    exact=True,
)
OWN = CompiledQuery.compile(
    f"""
    SELECT {_ROW_COLUMNS} FROM {_FROM}
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
    """A row of _ROW_COLUMNS, ranked."""
    player_id, name, score, metadata, rank_key, reached_at = row
    return Ranked(
        rank=rank,
        player_id=player_id,
        display_name=name,
        score=score,
        metadata=json.loads(metadata) if isinstance(metadata, str | bytes) else metadata,
        rank_key=rank_key,
        reached_at=_reached(reached_at),
    )


def _reached(column: int | datetime) -> datetime:
    """reached_at as _REACHED reads it: microseconds on PostgreSQL, a timestamp elsewhere."""
    return index.EPOCH + column * index.MICROSECOND if isinstance(column, int) else aware(column)


def encode_cursor(period: Period, last: Ranked) -> str:
    micros = index.version_at(last.reached_at)
    return cursor_of(period.pk, last.rank, last.rank_key, micros, last.player_id)


def cursor_of(period_id: int, rank: int, rank_key: int, reached_micros: int, player_id: int) -> str:
    """A page's `next`: where it ended, in the period it ranks (a board's reset starts another
    period, and a cursor of the old one means nothing there)."""
    text = f"{period_id}:{rank}:{rank_key}:{reached_micros}:{player_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# What a cursor's numbers are compared with: bigint columns (and no cursor this API gives holds
# more), so a forged one is refused here rather than by the database. Its rank has the page's
# row numbers added to it in bigint: it stays far below the end.
BIGINT_END = 2**63
RANK_END = 2**62


def decode_cursor(cursor: str, *, period: Period) -> tuple[int, int, datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        period_id, rank, rank_key, micros, player_id = (
            int(part) for part in base64.urlsafe_b64decode(padded).decode().split(":")
        )
        if (
            not 1 <= rank < RANK_END
            or micros < 0
            or not all(-BIGINT_END < part < BIGINT_END for part in (rank, rank_key, player_id))
        ):
            raise ValueError
        reached_at = index.EPOCH + micros * index.MICROSECOND  # OverflowError past year 9999
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError) as error:
        # Unreadable only: a well-formed cursor this API did not give is read, not refused.
        raise InvalidCursor(
            "The cursor cannot be read (it is not in the form this API gives); "
            "start again from the top."
        ) from error
    if period_id != period.pk:
        raise InvalidCursor(
            "The cursor is of another board or period (the board may have reset since); "
            "start again from the top."
        )
    return rank, rank_key, reached_at, player_id


@dataclass(frozen=True)
class Page:
    period: Period
    results: list[Ranked]
    next_cursor: str | None


def top_entries(*, period: Period, limit: int, cursor: str | None = None) -> Page:
    """One indexed read of `limit` entries from the top or after the cursor."""
    now = timezone.now()
    if cursor:
        rank, rank_key, reached_at, player_id = decode_cursor(cursor, period=period)
        rows = AFTER.limited(limit + 1).rows([period.pk, now, rank_key, reached_at, player_id])
    else:
        rank, rows = 0, FIRST.limited(limit + 1).rows([period.pk, now])
    results = [_ranked(row, rank + n) for n, row in enumerate(rows[:limit], 1)]
    more = len(rows) > limit
    return Page(period, results, encode_cursor(period, results[-1]) if more and results else None)


@dataclass(frozen=True)
class JsonPage:
    period: Period
    results_json: str  # the `results` array as the API answers it
    next_cursor: str | None


def open_top_entries_json(*, period: Period, limit: int, cursor: str | None = None) -> JsonPage:
    """top_entries_json of an open period, its first page at most TOP_PAGE_SECONDS old."""
    if cursor:
        return top_entries_json(period=period, limit=limit, cursor=cursor)
    page = _top_pages.get_or_load(
        (period.pk, limit), lambda: top_entries_json(period=period, limit=limit)
    )
    assert page is not None  # a page is always read, if empty
    return page


def top_entries_json(*, period: Period, limit: int, cursor: str | None = None) -> JsonPage:
    """What top_entries reads, with the results as JSON: built by PostgreSQL in one statement;
    elsewhere (SQLite) rendered here from top_entries."""
    if not POSTGRES:
        page = top_entries(period=period, limit=limit, cursor=cursor)
        results = [entry_body(entry) for entry in page.results]
        return JsonPage(period, json.dumps(results, separators=(",", ":")), page.next_cursor)
    now = timezone.now()
    last = [limit] * 4
    if cursor:
        rank, rank_key, reached_at, player_id = decode_cursor(cursor, period=period)
        row = AFTER_JSON.limited(limit + 1).row(
            [rank, *last, period.pk, now, rank_key, reached_at, player_id]
        )
    else:
        rank, row = 0, FIRST_JSON.limited(limit + 1).row([0, *last, period.pk, now])
    assert row is not None  # an aggregate answers one row
    results_json, count, last_key, last_micros, last_player = row
    more = count > limit  # the page holds up to its bucket of rows, the JSON only `limit`
    return JsonPage(
        period,
        results_json,
        cursor_of(period.pk, rank + limit, last_key, last_micros, last_player) if more else None,
    )


def entry_body(entry: Ranked) -> dict[str, Any]:
    """One entry as EntrySerializer renders it."""
    return {
        "rank": entry.rank,
        "player_id": entry.player_id,
        "display_name": entry.display_name,
        "score": entry.score,
        "metadata": entry.metadata,
    }


def _rank_of(period: Period, *, rank_key: int, reached_at: datetime, player_id: int) -> int:
    """The rank of an entry with these keys: 1-based, among players not banned; the index's
    answer for an open period, else a count (and an open period's lost index is rebuilt, by one
    caller, in a task)."""
    if period.state == Period.State.OPEN:
        # Only an open period has an index: a closed one's was let go at its close, and
        # building one for a look at old standings would leave keys nothing keeps current.
        member = index.member_of(rank_key=rank_key, reached_at=reached_at, player_id=player_id)
        position = index.rank_of(period.pk, member)
        if position is None and (token := index.claim_build(period.pk)) is not None:
            enqueue(
                rebuild_rank_index, period.pk, token, then="ranks are counted until a later rebuild"
            )
            position = index.rank_of(period.pk, member)  # a local (eager) task has rebuilt it
        if position is not None:
            return position + 1
    row = AHEAD.row([period.pk, timezone.now(), rank_key, reached_at, player_id])
    return (row[0] if row else 0) + 1


def player_entry(*, period: Period, player_id: int) -> Ranked | None:
    """A player's entry with its rank, or None (no entry, or banned)."""
    row = OWN.row([period.pk, player_id, timezone.now()])
    if row is None:
        return None
    own = _ranked(row, 0)
    rank = _rank_of(
        period, rank_key=own.rank_key, reached_at=own.reached_at, player_id=own.player_id
    )
    return dataclasses.replace(own, rank=rank)


@dataclass(frozen=True)
class Around:
    period: Period
    entry_json: str  # the player's entry as EntrySerializer answers it, or "null"
    results_json: str  # the entries above (up to the radius), the player's, the entries below


def around_player(*, period: Period, player_id: int, radius: int) -> Around:
    """Two round trips: one statement for the entries (each as JSON, _BODY), the rank index for
    the player's rank; the entries around are ranked from it, one by one."""
    now = timezone.now()
    rows = AROUND.limited(radius).rows(
        [period.pk, player_id, now, period.pk, period.pk, now, period.pk, now]
    )
    mine = [row[1:] for row in rows if row[0] == 0]
    if not mine:
        return Around(period, "null", "[]")
    rank_key, reached_at, own = mine[0]
    rank = _rank_of(period, rank_key=rank_key, reached_at=_reached(reached_at), player_id=player_id)
    above = [row[3] for row in rows if row[0] == -1][:radius]  # nearest first
    below = [row[3] for row in rows if row[0] == 1][:radius]
    ranked = [
        *(_with_rank(rank - n, body) for n, body in reversed(list(enumerate(above, 1)))),
        _with_rank(rank, own),
        *(_with_rank(rank + n, body) for n, body in enumerate(below, 1)),
    ]
    return Around(period, ranked[len(above)], f"[{', '.join(ranked)}]")


def _with_rank(rank: int, body: str) -> str:
    """An entry's JSON object (_BODY) with its rank put first, as EntrySerializer orders it."""
    return f'{{"rank": {rank}, {body[1:]}'
