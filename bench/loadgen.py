"""A small closed-loop HTTP load generator for the benchmarks: keep-alive connections on
127.0.0.1 only, bounded in requests and in time."""

from __future__ import annotations

import base64
import http.client
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


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
    """make_request(i) -> (method, path, body, headers); each thread keeps one connection."""
    counter = iter(range(total_requests))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local: list[float] = []
        local_errors = 0
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = make_request(i)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status not in expect_status:
                    local_errors += 1
            except (OSError, http.client.HTTPException):
                local_errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            local.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(local)
            errors += local_errors

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return LoadResult(label, len(latencies), errors, elapsed, latencies)


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


def production_env(database_url: str, *, settings_module: str = "gamingpanel.settings") -> dict:
    """DEBUG off with fresh secrets, as a deployment runs; the same for the bench and its server."""

    def key32() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    bench_dir = os.path.dirname(os.path.abspath(__file__))
    return {
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
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
