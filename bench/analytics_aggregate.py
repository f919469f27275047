"""Aggregation benchmark: 1 M and 10 M raw events for one game over 90 days, on PostgreSQL.

    .venv/bin/python bench/analytics_aggregate.py [--sizes 1000000,10000000]

Creates a throwaway database next to $DATABASE_URL (default postgres://postgres@127.0.0.1:5432),
migrates it, generates the events with set-based SQL (generate_series), times
`apps.analytics.aggregation.aggregate_days` over the 90 days and drops the database at the end.
The raw table is made UNLOGGED and loaded without FK checks, to keep the load short; the
aggregates are written as in production.
Players scale with events (200 events per player over the period), so the 10 M run has ten
times the players, player-days and events of the 1 M run. Target: 10 M under 60 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from loadgen import throwaway_database  # noqa: E402

DAYS = 90
EVENTS_PER_PLAYER = 200
TARGET_SECONDS_10M = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    with throwaway_database(base, "analytics") as database_url:
        os.environ.update(
            DATABASE_URL=database_url,
            GP_TESTING="1",
            DJANGO_DEBUG="1",
            DJANGO_SETTINGS_MODULE="gamingpanel.settings",
            LOG_LEVEL="WARNING",
        )
        results = run(sizes)
    report(results)


def run(sizes: list[int]) -> list[dict]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = []
    for size in sizes:
        game_id, start, end = generate(size)
        from apps.analytics.aggregation import aggregate_days

        began = time.perf_counter()
        aggregate_days(game_id=game_id, start=start, end=end, chunk_days=DAYS)
        seconds = time.perf_counter() - began
        results.append({"events": size, "seconds": seconds, **counts(game_id)})
        print(f"  aggregated {size:>11,} events in {seconds:6.1f} s", flush=True)
    return results


def generate(size: int) -> tuple[int, object, object]:
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import Game, Player

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE analytics_rawevent, analytics_playerday, analytics_dailymetrics, "
            "analytics_retentioncell, analytics_revenueday, analytics_offerday, "
            "analytics_economyday, accounts_player CASCADE"
        )
    game, _ = Game.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    players = max(size // EVENTS_PER_PLAYER, 10)
    Player.objects.bulk_create(
        (Player(game=game, display_name=f"bench-{n}") for n in range(players)), batch_size=10_000
    )
    end = timezone.now().date() - timedelta(days=1)
    start = end - timedelta(days=DAYS - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'analytics_rawevent' "
            "AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:  # load first, index after, as a restore would
            cursor.execute(f'DROP INDEX "{name}"')
        # Only the load is made cheap (no WAL, no FK checks); aggregation reads the same rows.
        cursor.execute("ALTER TABLE analytics_rawevent SET UNLOGGED")
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute(GENERATE_SQL, {"game": game.pk, "start": start, "days": DAYS, "n": size})
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE analytics_rawevent")
        cursor.execute("SELECT count(*) FROM analytics_rawevent")
        stored = cursor.fetchone()[0]
    print(
        f"generated {stored:>11,} events, {players:,} players "
        f"in {time.perf_counter() - began:6.1f} s",
        flush=True,
    )
    return game.pk, start, end


# Each player is created on a day of the period, is active that day, then on a later day with a
# probability that decays from 60 % to a 15 % floor. Every active player-day gets the same number
# of events (enough to reach n): a session, sometimes a match or a purchase, the rest client
# events. One statement, no Python loop.
GENERATE_SQL = """
WITH players AS (
    SELECT id AS player_id, floor(random() * %(days)s)::int AS created
    FROM accounts_player WHERE game_id = %(game)s
),
active AS (
    SELECT p.player_id, d, d = p.created AS first_day
    FROM players p CROSS JOIN generate_series(0, %(days)s - 1) AS d
    WHERE d = p.created
       OR (d > p.created AND random() < 0.15 + 0.45 * exp((p.created - d) / 5.0::float8))
),
per_day AS (SELECT ceil(%(n)s::numeric / count(*))::int AS q FROM active),
rows AS (
    SELECT a.player_id, a.d, a.first_day, j, random() AS r
    FROM active a CROSS JOIN per_day CROSS JOIN generate_series(1, per_day.q) AS j
    LIMIT %(n)s
),
named AS (
    SELECT *, CASE
        WHEN j = 1 AND first_day THEN 'player_created'
        WHEN j = 2 THEN 'session_start'
        WHEN j = 3 AND r < 0.3 THEN 'match_played'
        WHEN j = 4 AND r < 0.03 THEN 'purchase_completed'
        WHEN j = 5 AND r < 0.2 THEN 'session_start'
        ELSE (ARRAY['level_start', 'level_complete', 'item_used', 'ad_watched'])[1 + j %% 4]
    END AS name
    FROM rows
)
INSERT INTO analytics_rawevent
    (game_id, player_id, source, name, event_id, occurred_at, day, received_at, properties)
SELECT %(game)s, player_id,
       CASE WHEN name IN ('player_created', 'session_start', 'match_played',
                          'purchase_completed') THEN 'server' ELSE 'client' END,
       name, NULL,
       (%(start)s::date + d)::timestamp AT TIME ZONE 'UTC' + make_interval(secs => j * 37),
       %(start)s::date + d,
       now(),
       CASE name
           WHEN 'match_played' THEN jsonb_build_object(
               'match_id', 'm' || d || '-' || (player_id %% 997), 'outcome', 'win')
           WHEN 'purchase_completed' THEN jsonb_build_object(
               'offer_id', 'offer-' || (player_id %% 8), 'purchase_id', player_id * 100 + d,
               'currency', CASE WHEN r < 0.02 THEN 'USD' ELSE 'EUR' END,
               'amount', 99 + (player_id %% 9) * 100, 'real_money', true)
           ELSE '{}'::jsonb
       END
FROM named
"""


def counts(game_id: int) -> dict:
    from apps.analytics.models import DailyMetrics, PlayerDay

    days = DailyMetrics.objects.filter(game_id=game_id)
    return {
        "player_days": PlayerDay.objects.filter(game_id=game_id).count(),
        "peak_dau": max(days.values_list("dau", flat=True), default=0),
        "last_mau": days.order_by("-day").values_list("mau", flat=True).first() or 0,
    }


def report(results: list[dict]) -> None:
    print()
    print(
        f"{'events':>12} {'player-days':>12} {'peak DAU':>9} {'MAU':>8} {'seconds':>8} {'events/s':>11}"
    )
    for row in results:
        rate = row["events"] / row["seconds"]
        print(
            f"{row['events']:>12,} {row['player_days']:>12,} {row['peak_dau']:>9,} "
            f"{row['last_mau']:>8,} {row['seconds']:>8.1f} {rate:>11,.0f}"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large["seconds"] / small["seconds"]
        scale = large["events"] / small["events"]
        print(f"time grows {growth:.1f}x for {scale:.0f}x the events")
    large = results[-1]
    if large["events"] >= 10_000_000:
        verdict = "PASS" if large["seconds"] < TARGET_SECONDS_10M else "FAIL"
        print(f"10 M target < {TARGET_SECONDS_10M:.0f} s: {verdict} ({large['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
