"""Which production server: granian (WSGI) against gunicorn's sync workers, same worker count,
same view (GET /api/v1/health: one SELECT 1 and one cache round trip), in one run.

    .venv/bin/python bench/server_choice.py [--workers 2] [--requests 6000]

Uses DATABASE_URL / REDIS_URL when set (PostgreSQL + Redis, as in production); on PostgreSQL it
serves a throwaway database next to DATABASE_URL's, dropped at the end. Any answer but 200 (say,
503 from a health check that cannot reach its database) counts as an error."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import print_table, run_load, throwaway_database, wait_for_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def serve(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_DEBUG": "1", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def measure(label: str, command: list[str], port: int, total: int) -> object:
    server = serve(command)
    try:
        wait_for_port(port)
        run_load(
            label="warm-up",
            port=port,
            make_request=lambda i: ("GET", "/api/v1/health", None, {}),
            total_requests=300,
        )
        return run_load(
            label=label,
            port=port,
            make_request=lambda i: ("GET", "/api/v1/health", None, {}),
            total_requests=total,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=6000)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        compare(args)
        return
    with throwaway_database(base, "server") as database_url:
        os.environ["DATABASE_URL"] = database_url
        compare(args)


def compare(args: argparse.Namespace) -> None:
    w = str(args.workers)
    gunicorn = measure(
        f"gunicorn sync x{w}",
        [str(BIN / "gunicorn"), "-w", w, "-b", "127.0.0.1:8791", "gamingpanel.wsgi:application"],
        8791,
        args.requests,
    )
    granian = measure(
        f"granian wsgi x{w}",
        [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            "8792",
            "--workers",
            w,
            "--blocking-threads",
            "4",
            "gamingpanel.wsgi:application",
        ],
        8792,
        args.requests,
    )
    print_table([gunicorn, granian], baseline=gunicorn)


if __name__ == "__main__":
    main()
