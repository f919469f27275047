"""Every authenticated GET of the seed, and platform login, over HTTP in one run, against
baseline (a): a plain Django view doing the same token check (JWE + JWT) with no database, no
cache and no DRF (bench/auth_baseline.py), served by the same processes.

    .venv/bin/python bench/player_requests.py [--workers 2] [--rounds 2] [--requests 3000]

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL). Creates a throwaway database next to
$DATABASE_URL, migrates it, seeds the demo game (`seed_demo`: stats, wallets and items, the shop,
a running event, a battle-pass season), serves the panel with granian (WSGI) with production
settings (DEBUG off, fresh keys, the revocation mirror on), logs PLAYERS players in through the
dev platform, registers live servers, checks each answer once, then runs the cases in rotating
order for a few rounds from keep-alive connections. Rate limits are counted as in production,
with budgets the bench cannot exhaust.

Targets (issue 13): each GET >= 40 % of (a); login is measured and reported beside (a) (aim:
>= 600 logins/s), for new players (each login creates one) and returning ones.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
from loadgen import (  # noqa: E402
    add_load_arguments,
    check_once,
    measure_with,
    print_read_floor,
    print_results,
    production_panel,
    seed_demo,
    serve_granian,
    stop_server,
    wait_for_port,
)

PORT = 8795
PLAYERS = 64
SERVERS = 12
GAME_KEY = "demo-client-key"
SERVER_KEY = "demo-server-key"
TARGET_GET_VS_PLAIN = 0.40
FLOOR_LABEL = "(c) view (a) + one indexed query"
PIPELINE_LABEL = "(d) PlayerApi view, no query"
AIM_LOGINS_PER_SECOND = 600
GETS = [
    "player/stats",
    "player/inventory",
    "shop/categories",
    "events/active",
    "battlepass/progress",
    "multiplayer/server-info",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser)
    args = parser.parse_args()

    with production_panel("reads"):
        ok = run(args)
    sys.exit(0 if ok else 1)


def call(method: str, path: str, body: dict | None, headers: dict[str, str]) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(
            method, path, body=payload, headers={"Content-Type": "application/json", **headers}
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def log_in(user_id: str) -> dict:
    status, body = call(
        "POST",
        "/api/v1/auth/third-party/login",
        {"platform": "dev", "credentials": {"user_id": user_id, "display_name": user_id}},
        {"X-Game-Key": GAME_KEY},
    )
    if status != 200:
        raise RuntimeError(f"login of {user_id} answered {status}: {body}")
    return body


def register_servers() -> None:
    for n in range(SERVERS):
        server = {
            "server_id": f"bench-{n}",
            "region": ("eu", "us", "asia")[n % 3],
            "address": f"10.0.0.{n}",
            "port": 7000 + n,
            "capacity": 16,
            "players": n % 16,
        }
        status, body = call(
            "POST", "/api/v1/multiplayer/servers/heartbeat", server, {"X-Server-Key": SERVER_KEY}
        )
        if status not in (200, 201):
            raise RuntimeError(f"heartbeat answered {status}: {body}")


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def get_case(path: str, tokens: list[str], **extra: str) -> Callable:
    """GET /api/v1/<path> as each player in turn, with any extra headers."""
    return get_url_case(f"/api/v1/{path}", tokens, **extra)


def get_url_case(url: str, tokens: list[str], **extra: str) -> Callable:
    def make(i: int) -> tuple[str, str, None, dict[str, str]]:
        return "GET", url, None, bearer(tokens[i % len(tokens)], **extra)

    return make


def plain_case(tokens: list[str]) -> Callable:
    from auth_baseline import PLAIN_VIEW

    bodies = [json.dumps({"token": token}).encode() for token in tokens]

    def make(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        return "POST", PLAIN_VIEW, bodies[i % len(bodies)], {"Content-Type": "application/json"}

    return make


def login_case(user_ids: Callable[[int], str]) -> Callable:
    headers = {"Content-Type": "application/json", "X-Game-Key": GAME_KEY}

    def make(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        user_id = user_ids(i)
        body = {"platform": "dev", "credentials": {"user_id": user_id, "display_name": user_id}}
        return "POST", "/api/v1/auth/third-party/login", json.dumps(body).encode(), headers

    return make


def run(args: argparse.Namespace) -> bool:
    import django

    seed_demo()
    django.setup()
    from auth_baseline import FLOOR_VIEW, PIPELINE_VIEW
    from django.core.cache import cache

    server = serve_granian(port=PORT, workers=args.workers, blocking_threads=args.blocking_threads)
    new_players = itertools.count()
    try:
        wait_for_port(PORT)
        tokens = [log_in(f"reader-{n}")["access_token"] for n in range(PLAYERS)]
        register_servers()
        cases = {"(a) plain view, same JWE+JWT check": plain_case(tokens)}
        cases[FLOOR_LABEL] = get_url_case(FLOOR_VIEW, tokens)
        cases[PIPELINE_LABEL] = get_url_case(PIPELINE_VIEW, tokens)
        cases |= {f"GET {path}": get_case(path, tokens) for path in GETS}
        cases["POST login, new player"] = login_case(lambda _i: f"new-{next(new_players)}")
        cases["POST login, returning player"] = login_case(lambda i: f"reader-{i % PLAYERS}")
        if not check_once(cases, call):
            return False
        measured = measure_with(cases, port=PORT, server_pid=server.pid, args=args)
    finally:
        stop_server(server)
        cache.clear()

    merged = measured.results
    plain = print_results("player requests over HTTP", measured, args)
    floor = merged[FLOOR_LABEL]
    print(
        f"{FLOOR_LABEL}: {floor.rps / plain.rps:.0%} of (a): the most a read with one query can be"
    )
    pipeline = merged[PIPELINE_LABEL]
    print(f"{PIPELINE_LABEL}: {pipeline.rps / plain.rps:.0%} of (a): the pipeline alone")
    print_read_floor(merged, plain, floor=FLOOR_LABEL, pipeline=PIPELINE_LABEL)
    met = True
    for path in GETS:
        result = merged[f"GET {path}"]
        ok = result.rps / plain.rps >= TARGET_GET_VS_PLAIN
        met = met and ok
        print(
            f"GET {path}: {result.rps / plain.rps:.0%} of (a) "
            f"(target >= {TARGET_GET_VS_PLAIN:.0%}): {'met' if ok else 'NOT met'}; "
            f"{result.rps / floor.rps:.0%} of (c)"
        )
    for label in ("POST login, new player", "POST login, returning player"):
        result = merged[label]
        print(
            f"{label}: {result.rps:.0f}/s, {result.rps / plain.rps:.0%} of (a) "
            f"(aim >= {AIM_LOGINS_PER_SECOND}/s)"
        )
    errors = sum(result.errors for result in merged.values())
    print(f"errors: {errors}")
    return met and errors == 0


if __name__ == "__main__":
    main()
