"""Token validation for game servers, over HTTP, in one run: POST auth/validate and POST
multiplayer/validate-token (server key + player token) against two baselines served by the same
processes:

(a) a plain Django view doing the same token check (decode_access_token: JWE + JWT, verified
    once per process as for every caller), with no database and no Redis;
(b) simplejwt's stock TokenVerifyView (a plain signed JWT, no encryption).

Beside them, auth/validate posting a token no process has seen before each time: what the first
check of a token costs (reported, no target).

    .venv/bin/python bench/auth_validate.py [--workers 2] [--rounds 3] [--requests 2500]

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL), as in production. Creates a throwaway
database next to $DATABASE_URL, migrates it, opens real sessions with apps.accounts, serves the
panel with granian (WSGI) on 127.0.0.1 with production settings (DEBUG off, fresh keys), checks
each endpoint's answer once, then runs the cases in rotating order for a few rounds from
keep-alive connections. Targets: auth/validate >= 60 % of (a) and >= 1.0x (b).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
from loadgen import (  # noqa: E402
    measure_rounds,
    print_table,
    production_env,
    serve_granian,
    stop_server,
    throwaway_database,
    wait_for_port,
)

PORT = 8797
SESSIONS = 64
SERVER_KEY = "sk_bench_" + secrets.token_urlsafe(24)
TARGET_VS_PLAIN, TARGET_VS_STOCK = 0.60, 1.0
FIRST_SIGHT = "POST auth/validate, each token new"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--blocking-threads", type=int, default=1, help="per granian worker")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=6000, help="per case and round")
    parser.add_argument("--seconds", type=float, default=8.0, help="at most, per case and round")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("This benchmark needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
    with throwaway_database(base, "auth") as database_url:
        os.environ.update(production_env(database_url, settings_module="auth_settings"))
        ok = run(args)
    sys.exit(0 if ok else 1)


def seed() -> tuple[list[str], list[str]]:
    """Access tokens of real sessions, and plain simplejwt tokens for baseline (b)."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.models import Game, Player
    from apps.accounts.services import create_server_key
    from apps.accounts.services.sessions import open_session

    with transaction.atomic():
        game = Game.objects.create(name="Bench", slug="bench-auth")
        create_server_key(game=game, name="bench", raw_key=SERVER_KEY)
        players = Player.objects.bulk_create(
            Player(game=game, display_name=f"p{n}") for n in range(SESSIONS)
        )
        now = timezone.now()
        panel = [open_session(player=p, platform="dev", now=now).access_token for p in players]
    plain = []
    for player in players:
        token = AccessToken()
        token["sub"], token["gid"], token["perms"] = str(player.pk), game.pk, ["player"]
        plain.append(str(token))
    return panel, plain


def post_token(path: str, tokens: list[str], headers: dict[str, str]) -> Callable:
    bodies = [json.dumps({"token": token}).encode() for token in tokens]
    all_headers = {"Content-Type": "application/json", **headers}

    def make(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        return "POST", path, bodies[i % len(bodies)], all_headers

    return make


def fresh_tokens(token: str, count: int) -> list[str]:
    """`count` more access tokens of `token`'s session, each of which the panel has never seen."""
    from apps.accounts.tokens import decode_access_token, issue_access_token

    claims = decode_access_token(token)
    return [
        issue_access_token(
            player_id=claims.player_id, game_id=claims.game_id, session_id=claims.session_id
        ).token
        for _ in range(count)
    ]


def post_each_once(path: str, tokens: list[str], headers: dict[str, str]) -> Callable:
    """Each request posts the next token: no process has verified it before (until they run out)."""
    following = itertools.count()
    bodies = [json.dumps({"token": token}).encode() for token in tokens]
    all_headers = {"Content-Type": "application/json", **headers}

    def make(_i: int) -> tuple[str, str, bytes, dict[str, str]]:
        return "POST", path, bodies[next(following) % len(bodies)], all_headers

    return make


def answer_of(make: Callable) -> tuple[int, dict]:
    method, path, body, headers = make(0)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def run(args: argparse.Namespace) -> bool:
    import django

    django.setup()
    from auth_baseline import PLAIN_VIEW, STOCK_VIEW
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    panel_tokens, plain_tokens = seed()
    server_key = {"X-Server-Key": SERVER_KEY}
    cases = {
        "POST auth/validate": post_token("/api/v1/auth/validate", panel_tokens, server_key),
        FIRST_SIGHT: post_each_once(
            "/api/v1/auth/validate",
            fresh_tokens(panel_tokens[0], args.rounds * args.requests + 2000),
            server_key,
        ),
        "POST multiplayer/validate-token": post_token(
            "/api/v1/multiplayer/validate-token", panel_tokens, server_key
        ),
        "(a) plain view, same JWE+JWT check": post_token(PLAIN_VIEW, panel_tokens, {}),
        "(b) simplejwt TokenVerifyView": post_token(STOCK_VIEW, plain_tokens, {}),
    }

    server = serve_granian(port=PORT, workers=args.workers, blocking_threads=args.blocking_threads)
    try:
        wait_for_port(PORT)
        answers = {label: answer_of(make) for label, make in cases.items()}
        for label, (status, body) in answers.items():
            print(f"  check {label}: {status} {json.dumps(body)[:110]}", flush=True)
        if not all(status == 200 and body.get("valid", True) for status, body in answers.values()):
            print("an endpoint did not accept a valid token; not measuring")
            return False
        measured = measure_rounds(
            cases,
            port=PORT,
            server_pid=server.pid,
            rounds=args.rounds,
            requests=args.requests,
            seconds=args.seconds,
            concurrency=args.concurrency,
            warm_up=400,
        )
    finally:
        stop_server(server)
        cache.clear()  # this run's own key prefix: rate-limit and revocation keys

    merged, cpu_ms = measured.results, measured.cpu_ms
    validate, first_sight, validate_token, plain, stock = merged.values()
    print()
    print(
        f"token validation over HTTP: granian WSGI x{args.workers} "
        f"(blocking threads {args.blocking_threads}), PostgreSQL + Redis, DEBUG off, "
        f"{args.concurrency} keep-alive connections, {args.rounds} rounds, ratio vs (a)"
    )
    print_table(list(merged.values()), baseline=plain)
    print()
    print(f"{'web-process CPU per request':44} {'ms':>7} {'capacity vs (a)':>16} {'vs (b)':>7}")
    for label, ms in cpu_ms.items():
        print(
            f"{label:44} {ms:7.3f} {cpu_ms[plain.label] / ms:16.2f} {cpu_ms[stock.label] / ms:7.2f}"
        )
    print()
    errors = sum(r.errors for r in merged.values())
    met = True
    for result in (validate, validate_token):
        vs_plain, vs_stock = result.rps / plain.rps, result.rps / stock.rps
        ok = vs_plain >= TARGET_VS_PLAIN and vs_stock >= TARGET_VS_STOCK
        met = met and ok
        print(
            f"{result.label}: {vs_plain:.0%} of (a) (target >= {TARGET_VS_PLAIN:.0%}), "
            f"{vs_stock:.2f}x (b) (target >= {TARGET_VS_STOCK:.1f}x): "
            f"{'met' if ok else 'NOT met'}"
        )
    print(
        f"{first_sight.label}: {first_sight.rps / plain.rps:.0%} of (a), "
        f"{first_sight.rps / stock.rps:.2f}x (b) (no target: what a token costs the first "
        "time a process sees it)"
    )
    print(f"errors: {errors}")
    return met and errors == 0


if __name__ == "__main__":
    main()
