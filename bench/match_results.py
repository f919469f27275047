"""Match results per second, over HTTP (granian, WSGI) on PostgreSQL, for 4 and 64 players per
match, against an in-run baseline: the game-server heartbeat, the cheapest endpoint that takes
the same X-Server-Key and writes one row.

    .venv/bin/python bench/match_results.py [--workers 2] [--seconds 20]

Creates a throwaway database next to $DATABASE_URL (default postgres://postgres@127.0.0.1:5432),
migrates it, seeds one game (5 stats over the four combine kinds, a running battle-pass season),
counts the queries of one match result by calling the service in-process (CaptureQueriesContext),
then serves the app with granian on 127.0.0.1 and posts matches with distinct ids from 8
keep-alive connections. Every player appears in several matches, so stats, XP and season XP are
checked afterwards against what was posted. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from loadgen import (  # noqa: E402
    LoadResult,
    print_table,
    production_env,
    run_load,
    serve_granian,
    stop_server,
    throwaway_database,
    wait_for_port,
)

PORT = 8795
SERVER_KEY = "bench-match-results-server-key"
POOL = 4096  # players; match n takes the next slice, so concurrent matches rarely share one
STATS = {"kills": 3, "deaths": 1, "best_score": 40, "fastest_lap": 900, "last_rank": 2}
OUTCOMES = ["win", "loss", "draw"]
XP = {"win": 100, "loss": 25, "draw": 50}  # the defaults: the bench game sets no rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="at most, per case")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    with throwaway_database(base, "matches") as database_url:
        os.environ.update(production_env(database_url), RATELIMIT_ENABLE="0")
        run(args.workers, args.seconds)


def run(workers: int, seconds: float) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    game, player_ids = seed()
    queries = {size: count_queries(game, player_ids, size) for size in (1, 4, 64)}

    server = serve_granian(port=PORT, workers=workers)
    try:
        wait_for_port(PORT)
        load(label="warm-up", request=heartbeat_request, total=200, seconds=seconds)
        baseline = load(
            label="baseline: heartbeat (server key, 1 upsert)",
            request=heartbeat_request,
            total=4000,
            seconds=seconds,
        )
        four = load(
            label="match-result, 4 players x 5 stats",
            request=match_request(player_ids, 4, "m4"),
            total=2000,
            seconds=seconds,
            expect=(201,),
        )
        sixty_four = load(
            label="match-result, 64 players x 5 stats",
            request=match_request(player_ids, 64, "m64"),
            total=400,
            seconds=seconds,
            expect=(201,),
        )
    finally:
        stop_server(server)

    print()
    print(f"match results over HTTP, granian WSGI x{workers}, PostgreSQL, 8 connections")
    print_table([baseline, four, sixty_four], baseline=baseline)
    print()
    print(
        f"{'players per match':>18} {'queries per result':>19} {'matches/s':>10} {'player results/s':>17}"
    )
    print(f"{1:>18} {queries[1]:>19} {'':>10} {'':>17}")
    for size, result in ((4, four), (64, sixty_four)):
        print(f"{size:>18} {queries[size]:>19} {result.rps:>10.0f} {result.rps * size:>17.0f}")
    print(
        "\nqueries: in-process service call, no HTTP auth; every step is a bulk statement, so the "
        "count does not grow with players or stats"
    )
    verify(game, player_ids, [(4, four), (64, sixty_four)])


def seed() -> tuple[object, list[int]]:
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Game, Player
    from apps.accounts.services import create_server_key
    from apps.battlepass.models import Season
    from apps.stats.models import StatDefinition

    game = Game.objects.create(name="Bench", slug="bench-matches", sandbox=True)
    create_server_key(game=game, name="bench", raw_key=SERVER_KEY)
    combine = StatDefinition.Combine
    kinds = [combine.SUM, combine.SUM, combine.MAX, combine.MIN, combine.LATEST]
    for key, kind in zip(STATS, kinds, strict=True):
        StatDefinition.objects.create(game=game, key=key, name=key, combine=kind)
    now = timezone.now()
    Season.objects.create(
        game=game, name="S", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    players = Player.objects.bulk_create(
        Player(game=game, display_name=f"p{n}") for n in range(POOL)
    )
    return game, [p.pk for p in players]


def lines(player_ids: list[int], size: int, n: int) -> list[dict]:
    start = (n * size) % POOL
    chosen = [player_ids[(start + k) % POOL] for k in range(size)]
    return [
        {"player_id": pid, "outcome": OUTCOMES[k % 3], "score": k, "stats": STATS}
        for k, pid in enumerate(chosen)
    ]


def count_queries(game: object, player_ids: list[int], size: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.multiplayer.services.matches import PlayerLine, record_match_result

    now = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        record_match_result(
            game=game,
            match_id=f"count-{size}",
            mode="duel",
            started_at=now,
            ended_at=now,
            players=[PlayerLine(**line) for line in lines(player_ids, size, 0)],
        )
    return len(captured)


def heartbeat_request(i: int) -> tuple[str, str, bytes, dict[str, str]]:
    body = {
        "server_id": f"srv-{i % 50}",
        "region": "eu",
        "address": "10.0.0.1",
        "port": 7777,
        "capacity": 16,
        "players": i % 16,
        "mode": "duel",
    }
    return "POST", "/api/v1/multiplayer/servers/heartbeat", json.dumps(body).encode(), HEADERS


HEADERS = {"Content-Type": "application/json", "X-Server-Key": SERVER_KEY}


def match_request(player_ids: list[int], size: int, prefix: str):  # noqa: ANN201
    def make(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = {
            "match_id": f"{prefix}-{i}",
            "mode": "duel",
            "started_at": "2025-01-01T10:00:00Z",
            "ended_at": "2025-01-01T10:20:00Z",
            "players": lines(player_ids, size, i),
        }
        return "POST", "/api/v1/multiplayer/match-result", json.dumps(body).encode(), HEADERS

    return make


def load(*, label: str, request, total: int, seconds: float, expect=(200,)) -> LoadResult:  # noqa: ANN001
    began = time.perf_counter()
    result = run_load(
        label=label,
        port=PORT,
        make_request=request,
        concurrency=8,
        total_requests=total,
        max_seconds=seconds,
        expect_status=expect,
    )
    print(
        f"  {label}: {result.requests} requests in {time.perf_counter() - began:.1f} s", flush=True
    )
    return result


def verify(game: object, player_ids: list[int], runs: list[tuple[int, LoadResult]]) -> None:
    """Recompute from what was posted (match ids are 0..requests-1 per case) and compare."""
    from collections import Counter

    from apps.battlepass.models import SeasonPass
    from apps.multiplayer.models import Match
    from apps.stats.models import PlayerProgress, PlayerStat

    expected_xp: Counter[int] = Counter()
    expected_kills: Counter[int] = Counter()
    posted = 3  # the in-process query-count matches of 1, 4 and 64 players
    for size in (1, 4, 64):
        for line in lines(player_ids, size, 0):
            expected_xp[line["player_id"]] += XP[line["outcome"]]
            expected_kills[line["player_id"]] += STATS["kills"]
    for size, result in runs:
        posted += result.requests - result.errors
        for i in range(result.requests):
            for line in lines(player_ids, size, i):
                expected_xp[line["player_id"]] += XP[line["outcome"]]
                expected_kills[line["player_id"]] += STATS["kills"]
    xp = dict(PlayerProgress.objects.values_list("player_id", "xp"))
    season_xp = dict(SeasonPass.objects.values_list("player_id", "xp"))
    kills = dict(
        PlayerStat.objects.filter(definition__key="kills").values_list("player_id", "value")
    )
    problems = [
        name
        for name, ok in [
            ("match count", Match.objects.filter(game=game).count() == posted),
            ("errors", all(result.errors == 0 for _, result in runs)),
            ("level XP", xp == dict(expected_xp)),
            ("season XP", season_xp == dict(expected_xp)),
            ("kills (sum)", kills == dict(expected_kills)),
        ]
        if not ok
    ]
    print(
        f"\ncorrectness: {posted} matches, {len(expected_xp)} players: "
        + ("every stat, XP and season XP as posted" if not problems else f"WRONG: {problems}")
    )


if __name__ == "__main__":
    main()
