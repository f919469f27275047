"""Leaderboard reads and score submissions over HTTP on a 1,000,000-entry board, against
baseline (a): a plain Django view doing the same token check (JWE + JWT) with no database, no
cache and no DRF (bench/auth_baseline.py), served by the same processes in the same run.

    .venv/bin/python bench/leaderboards.py [--workers 2] [--rounds 2] [--requests 2000]

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL). Creates a throwaway database next to
$DATABASE_URL, migrates it, seeds the demo game, bulk-loads ENTRIES players and their entries
into one board's open period (two INSERT … SELECT over generate_series, in PostgreSQL), builds
the Redis rank index from PostgreSQL (as the rebuild task does after Redis lost it), serves the
panel with granian (WSGI, production settings), logs PLAYERS players in (each with an entry
spread over the board), checks each answer once, then runs the cases in rotating order.

Targets (issue 18): around-me and top-100 each >= 30 % of (a); score submissions >= 20 % of (a).
Afterwards the submissions are checked: one stored per 201, and the index agrees with PostgreSQL
on the rank of sampled players.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
import player_requests  # noqa: E402
from loadgen import (  # noqa: E402
    add_load_arguments,
    check_once,
    measure_with,
    print_results,
    production_panel,
    report_targets,
    seed_demo,
    serve_granian,
    stop_server,
    wait_for_port,
)
from player_requests import call, get_case, log_in, plain_case  # noqa: E402

PORT = 8797
player_requests.PORT = PORT  # its call() and log_in() talk to this bench's server
PLAYERS = 64
ENTRIES = 1_000_000
SLUG = "bench-board"
SERVER_KEY = "demo-server-key"
TARGET_READ_VS_PLAIN = 0.30
TARGET_SUBMIT_VS_PLAIN = 0.20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser, requests=2000)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    args = parser.parse_args()

    with production_panel("boards"):
        try:
            ok = run(args)
        finally:
            forget_index()
    sys.exit(0 if ok else 1)


def bulk_load(entries: int) -> tuple[int, int, list[int]]:
    """ENTRIES players with one entry each, scores 0..entries/2 (many ties, broken by
    reached_at), loaded by PostgreSQL itself; returns the board, its period and the player ids."""
    from django.db import connection, transaction

    from apps.accounts.models import Game, Player
    from apps.leaderboards.models import Board, Entry
    from apps.leaderboards.services.periods import open_period

    game = Game.objects.get(client_key="demo-client-key")
    board = Board.objects.create(game=game, slug=SLUG, name="Bench board", reset="weekly")
    period = open_period(board=board)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Player._meta.db_table} (game_id, display_name, created_at, ban_reason)
                SELECT %s, 'bench-' || n, now(), '' FROM generate_series(1, %s) n""",  # noqa: S608
            [game.pk, entries],
        )
        cursor.execute(
            f"""INSERT INTO {Entry._meta.db_table}
                    (period_id, player_id, score, rank_key, reached_at, metadata, version)
                SELECT %s, p.id, s.score, -s.score,
                       %s::timestamptz + (p.id %% 86400) * interval '1 second', '{{}}', 1
                  FROM {Player._meta.db_table} p,
                       LATERAL (SELECT (hashint4(p.id::int) & 2147483647) %% %s AS score) s
                 WHERE p.game_id = %s AND p.display_name LIKE 'bench-%%'""",  # noqa: S608
            [period.pk, period.starts_at, max(entries // 2, 1), game.pk],
        )
        cursor.execute(f"ANALYZE {Entry._meta.db_table}")
        cursor.execute(f"ANALYZE {Player._meta.db_table}")
    print(f"  loaded {entries:,} players and entries in {time.monotonic() - started:.1f} s")
    ids = list(
        Player.objects.filter(game=game, display_name__startswith="bench-").values_list(
            "pk", flat=True
        )
    )
    return board.pk, period.pk, ids


def build_index(period_id: int) -> None:
    from apps.leaderboards.services.ranking import rebuild_index

    started = time.monotonic()
    count = rebuild_index(period_id=period_id)
    print(f"  rank index: {count:,} entries from PostgreSQL in {time.monotonic() - started:.1f} s")


def forget_index() -> None:
    from django.apps import apps

    if not apps.ready:
        return
    from apps.leaderboards import index
    from apps.leaderboards.models import Period

    for pk in Period.objects.values_list("pk", flat=True):
        index.forget(pk)


def submit_case(player_ids: list[int], prefix: str) -> Callable:
    """Each request a new submission id (warm-up and rounds included), a random player of the
    board and a random score."""
    rng = random.Random(18)
    headers = {"Content-Type": "application/json", "X-Server-Key": SERVER_KEY}
    numbers = itertools.count()

    def make(_i: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = {
            "submission_id": f"{prefix}-{next(numbers)}",
            "player_id": rng.choice(player_ids),
            "score": rng.randrange(ENTRIES),
        }
        return "POST", f"/api/v1/leaderboards/{SLUG}/scores", json.dumps(body).encode(), headers

    return make


def run(args: argparse.Namespace) -> bool:
    import django

    seed_demo()
    django.setup()
    _board_id, period_id, player_ids = bulk_load(args.entries)
    build_index(period_id)

    server = serve_granian(port=PORT, workers=args.workers, blocking_threads=args.blocking_threads)
    try:
        wait_for_port(PORT)
        logged_in = [log_in(f"ranked-{n}") for n in range(PLAYERS)]
        tokens = [body["access_token"] for body in logged_in]
        for n, body in enumerate(logged_in):  # each reader has an entry, spread over the board
            score = (n * 7919) % max(args.entries // 2, 1)
            status, answer = call(
                "POST",
                f"/api/v1/leaderboards/{SLUG}/scores",
                {"submission_id": f"reader-{n}", "player_id": body["player"]["id"], "score": score},
                {"X-Server-Key": SERVER_KEY},
            )
            if status != 201:
                print(f"reader score answered {status}: {answer}")
                return False
        cases: dict[str, tuple[Callable, tuple[int, ...]]] = {
            "(a) plain view, same JWE+JWT check": (plain_case(tokens), (200,)),
            "GET top-100": (get_case(f"leaderboards/{SLUG}?limit=100", tokens), (200,)),
            "GET around-me (radius 5)": (
                get_case(f"leaderboards/{SLUG}/around-me", tokens),
                (200,),
            ),
            "POST score (server key)": (
                submit_case(player_ids, f"bench{os.getpid()}"),
                (201,),
            ),
        }
        makers = {label: make for label, (make, _expect) in cases.items()}
        expected = {label: expect for label, (_make, expect) in cases.items()}
        if not check_once(makers, call, expected):
            return False
        measured = measure_with(
            makers, port=PORT, server_pid=server.pid, args=args, warm_up=200, expect=expected
        )
    finally:
        stop_server(server)

    merged = measured.results
    plain = print_results(f"leaderboards over HTTP, {args.entries:,}-entry board", measured, args)
    targets = {
        "GET top-100": TARGET_READ_VS_PLAIN,
        "GET around-me (radius 5)": TARGET_READ_VS_PLAIN,
        "POST score (server key)": TARGET_SUBMIT_VS_PLAIN,
    }
    met = report_targets(merged, plain, targets)
    errors = sum(result.errors for result in merged.values())
    print(f"errors: {errors}")
    consistent = verify(period_id, merged["POST score (server key)"].requests, logged_in)
    return met and errors == 0 and consistent


def verify(period_id: int, measured_submissions: int, logged_in: list[dict]) -> bool:
    """Each 201 stored one submission; the index's ranks equal counts in PostgreSQL."""
    from apps.leaderboards import index
    from apps.leaderboards.models import Period, Submission
    from apps.leaderboards.selectors import player_entry

    stored = Submission.objects.filter(submission_id__startswith=f"bench{os.getpid()}-").count()
    warm_and_checks = 200 + 1
    submissions_ok = stored == measured_submissions + warm_and_checks
    period = Period.objects.get(pk=period_id)
    sample = [body["player"]["id"] for body in logged_in[:8]]
    from_index = [player_entry(period=period, player_id=pk) for pk in sample]
    real_client = index._client
    index._client = lambda: None  # type: ignore[assignment]
    try:
        counted = [player_entry(period=period, player_id=pk) for pk in sample]
    finally:
        index._client = real_client  # type: ignore[assignment]
    ranks_ok = [e.rank if e else None for e in from_index] == [
        e.rank if e else None for e in counted
    ]
    print(
        f"check: {stored:,} submissions stored for {measured_submissions + warm_and_checks:,} "
        f"answered 201 ({'ok' if submissions_ok else 'MISMATCH'}); index ranks equal PostgreSQL "
        f"counts for {len(sample)} players ({'ok' if ranks_ok else 'MISMATCH'})"
    )
    return submissions_ok and ranks_ok


if __name__ == "__main__":
    main()
