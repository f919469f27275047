"""A small closed-loop HTTP load generator for the benchmarks: keep-alive connections on
127.0.0.1 only, bounded in requests and in time."""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import secrets
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


@dataclass
class LoadResult:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p99_ms(self) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


RequestFactory = Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]


def run_load(
    *,
    label: str,
    port: int,
    make_request: RequestFactory,
    concurrency: int = 16,
    total_requests: int = 4000,
    max_seconds: float = 30.0,
    expect_status: tuple[int, ...] = (200,),
) -> LoadResult:
    """make_request(i) -> (method, path, body, headers), sent on `concurrency` keep-alive
    connections from one thread with non-blocking sockets.

    The load generator shares the machine with the server it measures, so it must cost as
    little as possible: a thread per connection with http.client spent about 0.5 ms of CPU per
    request (header parsing, GIL hand-offs), a tenth of a purchase's whole cost; this loop
    spends a few tens of microseconds.
    """
    counter = iter(range(total_requests))
    deadline = time.monotonic() + max_seconds
    latencies: list[float] = []
    errors = 0
    selector = selectors.DefaultSelector()

    def send_next(conn: _Connection) -> None:
        i = next(counter, None) if time.monotonic() < deadline else None
        if i is None:
            selector.unregister(conn.sock)
            conn.sock.close()
            return
        conn.send(_encode(*make_request(i)))

    connections = [_Connection(port) for _ in range(concurrency)]
    started = time.perf_counter()
    for conn in connections:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        send_next(conn)
    while selector.get_map():
        for key, _ in selector.select(timeout=10):
            conn: _Connection = key.data
            try:
                status = conn.receive()
            except BlockingIOError:
                continue
            except OSError:
                status = -1
            if status is None:
                continue  # the answer is not complete yet
            latencies.append((time.perf_counter() - conn.sent_at) * 1000)
            if status not in expect_status:
                errors += 1
            if status == -1 or conn.closing:  # the server closed (or will close) it: reopen
                selector.unregister(conn.sock)
                conn.sock.close()
                conn.reconnect()
                selector.register(conn.sock, selectors.EVENT_READ, conn)
            send_next(conn)
    elapsed = time.perf_counter() - started
    return LoadResult(label, len(latencies), errors, elapsed, latencies)


def _encode(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class _Connection:
    """One keep-alive HTTP/1.1 connection: sends a request, reads its answer (Content-Length or
    chunked body), one at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reconnect()

    def reconnect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = b""
        self.sent_at = 0.0
        self.closing = False

    def send(self, request: bytes) -> None:
        self.buffer = b""
        self.sent_at = time.perf_counter()
        self.sock.setblocking(True)  # requests are small: sent at once
        self.sock.sendall(request)
        self.sock.setblocking(False)

    def receive(self) -> int | None:
        """The status once the whole answer is in, None while it is not, -1 if closed."""
        chunk = self.sock.recv(65536)
        if not chunk:
            return -1
        self.buffer += chunk
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = self.buffer[:head_end].decode("latin-1").lower()
        self.closing = "connection: close" in head  # gunicorn's sync workers, for one
        body = self.buffer[head_end + 4 :]
        status = int(head[9:12])
        if "content-length:" in head:
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            return status if len(body) >= length else None
        if "transfer-encoding: chunked" in head:
            return status if body.endswith(b"0\r\n\r\n") else None
        return status  # no body (204, 304)


@dataclass
class Measured:
    """Each case's requests over all rounds, and the web processes' CPU per request (ms)."""

    results: dict[str, LoadResult]
    cpu_ms: dict[str, float]
    # CPU per request of every party on the machine, by party (PARTIES), per case.
    parties_ms: dict[str, dict[str, float]]


def measure_rounds(
    cases: dict[str, RequestFactory],
    *,
    port: int,
    server_pid: int,
    rounds: int,
    requests: int,
    seconds: float,
    concurrency: int,
    warm_up: int = 300,
    expect: dict[str, tuple[int, ...]] | None = None,
) -> Measured:
    """Warm every case up, then run the cases in rotating order for `rounds` rounds, so a
    machine getting busier or quieter moves every case alike. Throughput on a shared machine
    swings with everyone else's load; the web processes' own CPU per request does much less.
    An answer is an error unless its status is the case's in `expect` (200 by default)."""
    labels = list(cases)
    statuses = {label: (expect or {}).get(label, (200,)) for label in labels}
    for label in labels:
        run_load(
            label="warm-up",
            port=port,
            make_request=cases[label],
            total_requests=warm_up,
            expect_status=statuses[label],
        )
    runs: dict[str, list[LoadResult]] = {label: [] for label in labels}
    party_seconds = {label: dict.fromkeys(PARTIES, 0.0) for label in labels}
    for round_no in range(rounds):
        for label in labels[round_no % len(labels) :] + labels[: round_no % len(labels)]:
            before = cpu_seconds_by_party(server_pid)
            result = run_load(
                label=label,
                port=port,
                make_request=cases[label],
                concurrency=concurrency,
                total_requests=requests,
                max_seconds=seconds,
                expect_status=statuses[label],
            )
            after = cpu_seconds_by_party(server_pid)
            for party in PARTIES:
                party_seconds[label][party] += after[party] - before[party]
            runs[label].append(result)
            print(f"  round {round_no + 1}: {label}: {result.rps:.0f} req/s", flush=True)
    results = {label: merge(label, label_runs) for label, label_runs in runs.items()}
    parties_ms = {
        label: {
            party: 1000 * seconds / max(results[label].requests, 1)
            for party, seconds in party_seconds[label].items()
        }
        for label in labels
    }
    return Measured(
        results=results,
        cpu_ms={label: parties_ms[label]["web"] for label in labels},
        parties_ms=parties_ms,
    )


# Who spends CPU on a request, on this one machine: the panel's processes (granian and its
# workers), PostgreSQL's (backends and background), Redis, and this process's load generator.
PARTIES = ("web", "postgres", "redis", "load")


def cpu_seconds_by_party(pgid: int) -> dict[str, float]:
    """User + system CPU so far of each party in PARTIES; `pgid` is the server's process group.
    A process that ended meanwhile is counted in its parent's reaped-children times (a
    PostgreSQL backend whose connection closed, at CONN_MAX_AGE, in the postmaster's): without
    them its CPU left the sum, and a case could show less CPU than none."""
    ticks = dict.fromkeys(PARTIES, 0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        comm = text[text.find("(") + 1 : text.rfind(")")]
        fields = text.rsplit(")", 1)[1].split()  # after "(comm)": state, ppid, pgrp, ...
        if int(fields[2]) == pgid:
            party = "web"
        elif comm == "postgres" or comm.startswith("postgres:"):
            party = "postgres"
        elif comm.startswith("redis-server"):
            party = "redis"
        else:
            continue
        ticks[party] += sum(int(n) for n in fields[11:15])  # utime, stime, cutime, cstime
    seconds = {party: count / os.sysconf("SC_CLK_TCK") for party, count in ticks.items()}
    own = os.times()
    seconds["load"] = own.user + own.system
    return seconds


def merge(label: str, runs: list[LoadResult]) -> LoadResult:
    return LoadResult(
        label=label,
        requests=sum(r.requests for r in runs),
        errors=sum(r.errors for r in runs),
        seconds=sum(r.seconds for r in runs),
        latencies_ms=[ms for r in runs for ms in r.latencies_ms],
    )


def wait_for_port(port: int, path: str = "/api/v1/health", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


def print_table(results: list[LoadResult], baseline: LoadResult) -> None:
    print(
        f"{'case':44} {'req':>7} {'err':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}"
    )
    for r in results:
        ratio = r.rps / baseline.rps if baseline.rps else 0.0
        print(
            f"{r.label:44} {r.requests:7d} {r.errors:5d} {r.rps:9.0f} {r.p50_ms:8.2f} "
            f"{r.p99_ms:8.2f} {ratio:7.2f}"
        )


def add_load_arguments(
    parser: argparse.ArgumentParser,
    *,
    blocking_threads: int = 4,
    rounds: int = 2,
    requests: int = 3000,
) -> None:
    """The options every rotating-rounds benchmark takes: its server and its load."""
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--blocking-threads",
        type=int,
        default=blocking_threads,
        help="per granian worker (docker-compose runs 4)",
    )
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--requests", type=int, default=requests, help="per case and round")
    parser.add_argument("--seconds", type=float, default=8.0, help="at most, per case and round")
    parser.add_argument("--concurrency", type=int, default=8)


def measure_with(
    cases: dict[str, RequestFactory],
    *,
    port: int,
    server_pid: int,
    args: argparse.Namespace,
    **options: Any,
) -> Measured:
    """measure_rounds with the options of add_load_arguments."""
    return measure_rounds(
        cases,
        port=port,
        server_pid=server_pid,
        rounds=args.rounds,
        requests=args.requests,
        seconds=args.seconds,
        concurrency=args.concurrency,
        **options,
    )


def print_results(title: str, measured: Measured, args: argparse.Namespace) -> LoadResult:
    """The title with the server and load it ran under, the throughput table against the first
    case (the baseline), and the CPU table; answers the baseline's result."""
    merged = measured.results
    baseline = next(iter(merged.values()))
    print()
    print(
        f"{title}: granian WSGI x{args.workers} (blocking threads {args.blocking_threads}), "
        f"PostgreSQL + Redis, DEBUG off, {args.concurrency} keep-alive connections, "
        f"{args.rounds} rounds, ratio vs (a)"
    )
    print_table(list(merged.values()), baseline=baseline)
    print()
    print_cpu_table(measured.cpu_ms, baseline.label)
    print()
    print_parties_table(measured.parties_ms, baseline.label)
    print()
    return baseline


def print_cpu_table(cpu_ms: dict[str, float], baseline: str) -> None:
    """The web processes' CPU per request of each case, and the capacity it leaves vs `baseline`."""
    print(f"{'web-process CPU per request':44} {'ms':>7} {'capacity vs (a)':>16}")
    for label, ms in cpu_ms.items():
        print(f"{label:44} {ms:7.3f} {cpu_ms[baseline] / ms:16.2f}")


def print_parties_table(parties_ms: dict[str, dict[str, float]], baseline: str) -> None:
    """Where a request's CPU goes on this machine, per party, in ms; `all` is their sum, and the
    last column the capacity that sum leaves vs `baseline` (with every core busy, throughput
    follows it)."""
    print(
        f"{'CPU per request, whole machine (ms)':44} "
        + " ".join(f"{party:>8}" for party in (*PARTIES, "all"))
        + f" {'vs (a)':>7}"
    )
    whole = {label: sum(parties.values()) for label, parties in parties_ms.items()}
    for label, parties in parties_ms.items():
        cells = " ".join(f"{parties[party]:8.3f}" for party in PARTIES)
        print(f"{label:44} {cells} {whole[label]:8.3f} {whole[baseline] / whole[label]:7.2f}")


def print_read_floor(
    results: dict[str, LoadResult], baseline: LoadResult, *, floor: str, pipeline: str
) -> float:
    """What cases (c) and (d) say together: (c) costs (a)'s check plus one query's round trip,
    (d) costs (a)'s check plus the pipeline, so a read that runs the pipeline and one query and
    does nothing else costs (c) + (d) - (a) per request. Prints that read's share of the
    baseline's throughput, the most any authenticated GET can reach here; answers it."""
    per_request = 1 / results[floor].rps + 1 / results[pipeline].rps - 1 / baseline.rps
    share = (1 / baseline.rps) / per_request
    print(
        f"(c) + (d) - (a): the pipeline and one query, nothing else: {share:.0%} of (a), "
        "the most an authenticated GET with one query can reach on this machine"
    )
    return share


def report_targets(results: dict[str, LoadResult], baseline: LoadResult, targets: dict) -> bool:
    """One line per target (a share of the baseline's throughput); True when all are met."""
    met = True
    for label, target in targets.items():
        ratio = results[label].rps / baseline.rps
        met = met and ratio >= target
        verdict = "met" if ratio >= target else "NOT met"
        print(f"{label}: {ratio:.0%} of (a) (target >= {target:.0%}): {verdict}")
    return met


def seed_demo() -> None:
    """Migrate the bench's database and seed the demo game, as `make run` does."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "gamingpanel.settings"}
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=root,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def check_once(
    cases: dict[str, RequestFactory],
    call: Callable[[str, str, dict | None, dict[str, str]], tuple[int, object]],
    expect: dict[str, tuple[int, ...]] | None = None,
) -> bool:
    """Send each case's first request once and show the answer; False (do not measure) when
    one answers other than expected (200 unless `expect` says)."""
    import json

    for label, make in cases.items():
        method, path, body, headers = make(-1)
        status, answer = call(method, path, json.loads(body) if body else None, headers)
        print(f"  check {label}: {status} {json.dumps(answer)[:90]}", flush=True)
        if status not in (expect or {}).get(label, (200,)):
            print("an endpoint did not answer as expected; not measuring")
            return False
    return True


def production_env(database_url: str, *, settings_module: str = "gamingpanel.settings") -> dict:
    """DEBUG off with fresh secrets, as a deployment runs; the same for the bench and its server."""

    def key32() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    bench_dir = os.path.dirname(os.path.abspath(__file__))
    return {
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "",  # served directly: no proxy in front
        "PUBLIC_BASE_URL": "http://127.0.0.1",  # required with DEBUG off; no checkout link is followed
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEYS": key32(),
        "TOKEN_ENCRYPTION_KEYS": f"bench:{key32().rstrip('=')}",
        "TOKEN_SIGNING_KEY": secrets.token_urlsafe(48),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": os.pathsep.join(filter(None, [bench_dir, os.environ.get("PYTHONPATH")])),
        "CACHE_KEY_PREFIX": f"gp-bench-{os.getpid()}",
        "LOG_LEVEL": "WARNING",
    }


def serve_granian(*, port: int, workers: int, blocking_threads: int = 4) -> subprocess.Popen:
    """The panel under its production server, in a process group of its own (see stop_server),
    with this process's environment (the bench's database and settings)."""
    granian = str(Path(sys.executable).parent / "granian")
    return subprocess.Popen(
        [
            *(granian, "--interface", "wsgi", "--no-ws", "--log-level", "warning"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
            *("--blocking-threads", str(blocking_threads), "gamingpanel.wsgi:application"),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=10)


@contextmanager
def throwaway_database(
    base_url: str, label: str, *, settings: dict[str, str] | None = None
) -> Iterator[str]:
    """A new PostgreSQL database next to `base_url`'s (with these per-database settings), as a
    URL; dropped afterwards, once this process's Django connections to it are closed."""
    import psycopg

    parts = urlsplit(base_url)
    name = f"gp_bench_{label}_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        for setting, value in (settings or {}).items():
            admin.execute(f"ALTER DATABASE \"{name}\" SET {setting} = '{value}'")
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def production_panel(label: str) -> Iterator[None]:
    """The environment a bench's panel runs in: its own database next to $DATABASE_URL, DEBUG
    off with fresh secrets and the revocation mirror on (as production), and request budgets
    the bench cannot exhaust (they are still counted). Exits when PostgreSQL or Redis is not
    configured."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("This benchmark needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
    with throwaway_database(base, label) as database_url:
        os.environ.update(
            production_env(database_url, settings_module="auth_settings"),
            REVOCATION_MIRROR="1",
            RATE_LIMIT_PER_HOUR=str(10**9),
            AUTH_RATE_LIMIT_PER_MINUTE=str(10**9),
            AUTH_GAME_RATE_LIMIT_PER_MINUTE=str(10**9),
        )
        yield
