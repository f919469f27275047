# ruff: noqa: S608 - only table names and constants are interpolated; values are parameters.
"""Daily metrics per game, computed with set-based SQL: a few statements per table and range of
days, never a Python loop over rows. Each table's rows of the range are deleted and recomputed
from the raw events, in one transaction, so rerunning a range gives the same numbers (a row whose
source is gone goes too) and a late event re-aggregates its day. Currency sources and sinks come
from the ledger, which analytics does not read: inventory, above it, registers the selector that
sums them (`register_economy_source`, in its ready()) and the days' rows are replaced with what
it returns.

Order within a range: player-days and the panel's facts first, then what depends on other days
(MAU over the 30 days to each day, retention of the cohorts up to 30 days before the range).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.analytics.models import (
    ClientEventDay,
    DailyMetrics,
    EconomyDay,
    OfferDay,
    PlayerDay,
    RawEvent,
    RetentionCell,
    RevenueDay,
)
from apps.analytics.sql import Dialect, dialect

MAU_WINDOW_DAYS = 30
RETENTION_OFFSETS = (0, 1, 3, 7, 14, 30)  # 0 is the cohort itself
ADVISORY_LOCK_NAMESPACE = 7_301  # pg_advisory_xact_lock(namespace, game_id)

RAW = RawEvent._meta.db_table
PLAYER_DAY = PlayerDay._meta.db_table
DAILY = DailyMetrics._meta.db_table
RETENTION = RetentionCell._meta.db_table
REVENUE = RevenueDay._meta.db_table
OFFERS = OfferDay._meta.db_table
CLIENT_EVENTS = ClientEventDay._meta.db_table
ECONOMY = EconomyDay._meta.db_table
PLAYER = Player._meta.db_table
FACT_NAMES = (
    "player_created",
    "purchase_completed",
    "purchase_refunded",
    "match_played",
    "event_reward_claimed",
    "battlepass_tier_claimed",
)


class EconomyFlow(Protocol):
    """Currency created (source) and destroyed (sink) on one UTC day for one ledger reason."""

    @property
    def day(self) -> date: ...
    @property
    def currency(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def source(self) -> int: ...
    @property
    def sink(self) -> int: ...
    @property
    def entries(self) -> int: ...


class EconomySource(Protocol):
    """Every flow of one game's currencies on the days start..end."""

    def __call__(self, *, game_id: int, start: date, end: date) -> Iterable[EconomyFlow]: ...


class NoEconomySource(RuntimeError):
    """No app registered where currency flows come from (inventory does, in its ready())."""


_economy_sources: list[EconomySource] = []


def register_economy_source(source: EconomySource) -> None:
    """The ledger's owner registers its selector once, at start-up; a second one replaces it."""
    _economy_sources[:] = [source]


def _economy_source() -> EconomySource:
    if not _economy_sources:
        raise NoEconomySource("No economy source registered: is apps.inventory installed?")
    return _economy_sources[0]


def aggregate_days(
    *,
    game_id: int,
    start: date,
    end: date,
    today: date | None = None,
    chunk_days: int = 31,
    on_chunk: Callable[[date, date], None] | None = None,
) -> None:
    """Recompute every daily metric of one game for start..end (days after today are skipped).

    Days older than the raw-event retention keep the numbers they have. Long ranges commit
    chunk by chunk; MAU and retention, which read across days, are
    recomputed once at the end, in the last chunk's transaction."""
    today = today or timezone.now().date()
    end = min(end, today)
    # Raw events before the retention are gone: recomputing those days would zero them.
    start = max(start, _raw_kept_from(today))
    if start > end:
        return
    chunks = list(_chunks(start, end, chunk_days))
    for number, (lo, hi) in enumerate(chunks, start=1):
        with transaction.atomic():
            sql = _begin(game_id)
            _ensure_daily_rows(game_id, lo, hi)
            _roll_player_days(sql, game_id, lo, hi)
            _daily_from_player_days(game_id, lo, hi)
            _daily_from_facts(sql, game_id, lo, hi)
            _revenue(sql, game_id, lo, hi)
            _offers(sql, game_id, lo, hi)
            _client_events(game_id, lo, hi)
            _economy(game_id, lo, hi)
            if number == len(chunks):
                _mau(sql, game_id, start, min(end + timedelta(days=MAU_WINDOW_DAYS - 1), today))
                _retention(sql, game_id, days_before(start, max(RETENTION_OFFSETS)), end, today)
        if on_chunk:
            on_chunk(lo, hi)


def _raw_kept_from(today: date) -> date:
    """The oldest day whose raw events are kept: only days from it on are recomputed."""
    return days_before(today, settings.ANALYTICS_RAW_RETENTION_DAYS)


def days_before(day: date, days: int) -> date:
    """`days` days before `day`, or the calendar's first day: a retention longer than the
    calendar (a "keep everything" setting of a million days) keeps every day, where
    `day - timedelta(days)` would raise OverflowError in every aggregation and prune."""
    return day - timedelta(days=days) if days <= (day - date.min).days else date.min


def _chunks(start: date, end: date, size: int) -> Iterator[tuple[date, date]]:
    lo = start
    while lo <= end:
        # Compared first: a chunk of a billion days is past what a timedelta holds.
        hi = end if size - 1 >= (end - lo).days else lo + timedelta(days=size - 1)
        yield lo, hi
        lo = hi + timedelta(days=1)


def _begin(game_id: int) -> Dialect:
    sql = dialect()
    if sql.postgres:
        with connection.cursor() as cursor:
            # One aggregation per game at a time (beat and a manual rebuild may overlap).
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, game_id]
            )
            cursor.execute(f"SET LOCAL work_mem = '{settings.ANALYTICS_AGGREGATION_WORK_MEM}'")
    return sql


def _run(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _d(value: date) -> object:
    return connection.ops.adapt_datefield_value(value)


def _clear(table: str, game_id: int, lo: date, hi: date, *, day: str = "day") -> None:
    """Delete the game's rows of lo..hi, which the caller recomputes in the same transaction."""
    _run(
        f"DELETE FROM {table} WHERE game_id = %s AND {day} BETWEEN %s AND %s",
        [game_id, _d(lo), _d(hi)],
    )


def _ensure_daily_rows(game_id: int, lo: date, hi: date) -> None:
    """A row for every day (zero when nothing happened), reset before it is recomputed."""
    days = [lo + timedelta(days=n) for n in range((hi - lo).days + 1)]
    DailyMetrics.objects.bulk_create(
        [DailyMetrics(game_id=game_id, day=day) for day in days], ignore_conflicts=True
    )
    zero = {field: 0 for field in _DAILY_COUNTS}
    DailyMetrics.objects.filter(game_id=game_id, day__range=(lo, hi)).update(
        **zero, updated_at=timezone.now()
    )


_DAILY_COUNTS = (
    "dau",
    "new_players",
    "sessions",
    "events",
    "paying_users",
    "purchases",
    "refunds",
    "matches",
    "match_players",
    "event_claims",
    "battlepass_claims",
)


# Facts about a player that the player did not make: a refund comes from the payment
# processor's webhook, maybe weeks later, and must not count a churned player as active (DAU,
# MAU, retention) on its day.
NOT_ACTIVITY = ("purchase_refunded",)


def _roll_player_days(sql: Dialect, game_id: int, lo: date, hi: date) -> None:
    # A deleted player's events lose their player: the days it already has are kept.
    _run(
        f"""
        DELETE FROM {PLAYER_DAY}
        WHERE game_id = %s AND day BETWEEN %s AND %s
          AND EXISTS (SELECT 1 FROM {PLAYER} AS p WHERE p.id = {PLAYER_DAY}.player_id)
        """,
        [game_id, _d(lo), _d(hi)],
    )
    not_activity = ", ".join(f"'{name}'" for name in NOT_ACTIVITY)  # constants, not input
    _run(
        f"""
        INSERT INTO {PLAYER_DAY} (game_id, player_id, day, events, sessions)
        SELECT game_id, player_id, day, count(*),
               sum(CASE WHEN name = 'session_start' THEN 1 ELSE 0 END)
        FROM {RAW}
        WHERE game_id = %s AND day BETWEEN %s AND %s AND player_id IS NOT NULL
          AND name NOT IN ({not_activity})
        GROUP BY game_id, player_id, day
        """,
        [game_id, _d(lo), _d(hi)],
    )


def _daily_from_player_days(game_id: int, lo: date, hi: date) -> None:
    _run(
        f"""
        UPDATE {DAILY} AS m
        SET dau = s.dau, sessions = s.sessions, events = s.events
        FROM (
            SELECT day, count(*) AS dau, sum(sessions) AS sessions, sum(events) AS events
            FROM {PLAYER_DAY}
            WHERE game_id = %s AND day BETWEEN %s AND %s
            GROUP BY day
        ) AS s
        WHERE m.game_id = %s AND m.day = s.day
        """,
        [game_id, _d(lo), _d(hi), game_id],
    )


def _daily_from_facts(sql: Dialect, game_id: int, lo: date, hi: date) -> None:
    def count(name: str) -> str:
        return f"sum(CASE WHEN name = '{name}' THEN 1 ELSE 0 END)"

    real = sql.json_true("properties", "real_money")
    match_id = sql.json_text("properties", "match_id")
    names = ", ".join(f"'{name}'" for name in FACT_NAMES)
    _run(
        f"""
        UPDATE {DAILY} AS m
        SET new_players = s.new_players, purchases = s.purchases, refunds = s.refunds,
            paying_users = s.paying_users, matches = s.matches, match_players = s.match_players,
            event_claims = s.event_claims, battlepass_claims = s.battlepass_claims
        FROM (
            SELECT day,
                count(DISTINCT CASE WHEN name = 'player_created' THEN player_id END) AS new_players,
                {count("purchase_completed")} AS purchases,
                {count("purchase_refunded")} AS refunds,
                count(DISTINCT CASE WHEN name = 'purchase_completed' AND {real}
                      THEN player_id END) AS paying_users,
                count(DISTINCT CASE WHEN name = 'match_played' THEN {match_id} END) AS matches,
                {count("match_played")} AS match_players,
                {count("event_reward_claimed")} AS event_claims,
                {count("battlepass_tier_claimed")} AS battlepass_claims
            FROM {RAW}
            WHERE game_id = %s AND name IN ({names}) AND day BETWEEN %s AND %s
            GROUP BY day
        ) AS s
        WHERE m.game_id = %s AND m.day = s.day
        """,
        [game_id, _d(lo), _d(hi), game_id],
    )


def _purchases(sql: Dialect, names: str) -> str:
    """Purchase facts with their properties as columns (bad or missing values: NULL or 0)."""
    return f"""
        SELECT game_id, day, player_id, name,
               substr({sql.json_text("properties", "currency")}, 1, 32) AS currency,
               substr({sql.json_text("properties", "offer_id")}, 1, 64) AS offer_id,
               CASE WHEN {sql.json_true("properties", "real_money")} THEN 1 ELSE 0 END AS real,
               {sql.json_int("properties", "amount")} AS amount
        FROM {RAW}
        WHERE game_id = %s AND name IN ({names}) AND day BETWEEN %s AND %s
    """


def _revenue(sql: Dialect, game_id: int, lo: date, hi: date) -> None:
    real = "(p.real = 1)"  # a boolean on PostgreSQL, 0/1 on SQLite
    completed = "p.name = 'purchase_completed'"
    refunded = "p.name = 'purchase_refunded'"
    _clear(REVENUE, game_id, lo, hi)
    _run(
        f"""
        INSERT INTO {REVENUE}
            (game_id, day, currency, real_money, purchases, gross, refunds, refunded, paying_users)
        SELECT p.game_id, p.day, p.currency, {real},
               sum(CASE WHEN {completed} THEN 1 ELSE 0 END),
               sum(CASE WHEN {completed} THEN p.amount ELSE 0 END),
               sum(CASE WHEN {refunded} THEN 1 ELSE 0 END),
               sum(CASE WHEN {refunded} THEN p.amount ELSE 0 END),
               count(DISTINCT CASE WHEN {completed} THEN p.player_id END)
        FROM ({_purchases(sql, "'purchase_completed', 'purchase_refunded'")}) AS p
        WHERE p.currency IS NOT NULL
        GROUP BY p.game_id, p.day, p.currency, p.real
        """,
        [game_id, _d(lo), _d(hi)],
    )


def _offers(sql: Dialect, game_id: int, lo: date, hi: date) -> None:
    _clear(OFFERS, game_id, lo, hi)
    _run(
        f"""
        INSERT INTO {OFFERS} (game_id, day, offer_id, currency, real_money, purchases, amount)
        SELECT p.game_id, p.day, p.offer_id, coalesce(p.currency, ''), (max(p.real) = 1),
               count(*), sum(p.amount)
        FROM ({_purchases(sql, "'purchase_completed'")}) AS p
        WHERE p.offer_id IS NOT NULL
        GROUP BY p.game_id, p.day, p.offer_id, coalesce(p.currency, '')
        """,
        [game_id, _d(lo), _d(hi)],
    )


def _client_events(game_id: int, lo: date, hi: date) -> None:
    """The game's own events per day and name (the panel's facts have their own columns)."""
    _clear(CLIENT_EVENTS, game_id, lo, hi)
    _run(
        f"""
        INSERT INTO {CLIENT_EVENTS} (game_id, day, name, events, players)
        SELECT game_id, day, name, count(*), count(DISTINCT player_id)
        FROM {RAW}
        WHERE game_id = %s AND day BETWEEN %s AND %s AND source = %s
        GROUP BY game_id, day, name
        """,
        [game_id, _d(lo), _d(hi), RawEvent.Source.CLIENT.value],
    )


def _economy(game_id: int, lo: date, hi: date) -> None:
    """Sources and sinks of virtual currencies, from the ledger (the source of truth)."""
    _clear(ECONOMY, game_id, lo, hi)
    EconomyDay.objects.bulk_create(
        [
            EconomyDay(
                game_id=game_id,
                day=flow.day,
                currency=flow.currency,
                reason=flow.reason,
                source=flow.source,
                sink=flow.sink,
                entries=flow.entries,
            )
            for flow in _economy_source()(game_id=game_id, start=lo, end=hi)
        ]
    )


def _mau(sql: Dialect, game_id: int, lo: date, hi: date) -> None:
    """Distinct players active in the 30 days to each day, from one pass over player-days.

    Each player-day covers itself and the next 29 days. Clipping each row's cover to start
    after the previous row's cover ends (LAG) makes one player's covers disjoint, so MAU of a day
    is the number of covers containing it: the sum of +1 at each start, -1 after each end, up to
    that day, 0 when there are none. (Days in range always have a row: _ensure_daily_rows
    made them.)
    """
    window = MAU_WINDOW_DAYS
    _run(
        f"""
        WITH pd AS (
            SELECT day, LAG(day) OVER (PARTITION BY player_id ORDER BY day) AS prev
            FROM {PLAYER_DAY}
            WHERE game_id = %s AND day BETWEEN %s AND %s
        ),
        marks AS (
            SELECT CASE WHEN prev IS NULL OR day > {sql.add_days("prev", str(window - 1))}
                        THEN day ELSE {sql.add_days("prev", str(window))} END AS d,
                   1 AS delta
            FROM pd
            UNION ALL
            SELECT {sql.add_days("day", str(window))} AS d, -1 AS delta FROM pd
        ),
        per_day AS MATERIALIZED (SELECT d, sum(delta) AS delta FROM marks GROUP BY d)
        UPDATE {DAILY} AS m
        SET mau = s.mau
        FROM (
            SELECT t.day, coalesce(sum(p.delta), 0) AS mau
            FROM {DAILY} AS t LEFT JOIN per_day AS p ON p.d <= t.day
            WHERE t.game_id = %s AND t.day BETWEEN %s AND %s
            GROUP BY t.day
        ) AS s
        WHERE m.game_id = %s AND m.day = s.day
        """,
        [game_id, _d(days_before(lo, window - 1)), _d(hi), game_id, _d(lo), _d(hi), game_id],
    )


def _retention(sql: Dialect, game_id: int, lo: date, hi: date, today: date) -> None:
    """Cohorts are the players created on a day (the panel's `player_created` fact); a cell is
    written once its day has come, so an unfinished cell is missing rather than zero. Cohorts
    older than the raw retention keep their cells (their `player_created` facts may be gone)."""
    _clear(RETENTION, game_id, max(lo, _raw_kept_from(today)), hi, day="cohort_day")
    offsets = " UNION ALL ".join(f"SELECT {k} AS k" for k in RETENTION_OFFSETS)
    target_day = sql.add_days("c.day", "o.k")
    _run(
        f"""
        INSERT INTO {RETENTION} (game_id, cohort_day, day_offset, retained)
        SELECT c.game_id, c.day, o.k, count(pd.player_id)
        FROM (
            SELECT game_id, player_id, min(day) AS day
            FROM {RAW}
            WHERE game_id = %s AND name = 'player_created' AND day BETWEEN %s AND %s
                  AND player_id IS NOT NULL
            GROUP BY game_id, player_id
        ) AS c
        CROSS JOIN ({offsets}) AS o
        LEFT JOIN {PLAYER_DAY} AS pd
               ON pd.game_id = c.game_id AND pd.player_id = c.player_id
              AND pd.day = {target_day}
        WHERE {target_day} <= %s
        GROUP BY c.game_id, c.day, o.k
        ON CONFLICT (game_id, cohort_day, day_offset) DO UPDATE SET retained = excluded.retained
        """,
        [game_id, _d(lo), _d(hi), _d(today)],
    )
