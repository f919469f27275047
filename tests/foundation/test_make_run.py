"""`make run` on PostgreSQL holds up under load: scripts/run as a developer starts it."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.conftest import ROOT
from tests.foundation.probe import DEPLOYMENT_VARIABLES, configured

REQUESTS = 1000
THREADS = 8
# runserver answers 8 requests at once, each on a connection of its own, beside the mirror's
# and a Celery worker's; hoarding leaves one per request served (~100 before PostgreSQL refuses).
FEW = 15


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> int:
    """One request on a new connection: runserver serves each in a new thread."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class ConnectionCounter:
    """Samples how many clients the test database has (other than the sampler) until stopped."""

    def __init__(self) -> None:
        db = connection.settings_dict
        self.conn = psycopg.connect(
            host=db["HOST"],
            port=db["PORT"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname=db["NAME"],
            autocommit=True,
        )
        self.name = db["NAME"]
        self.peak = 0
        self.stopped = threading.Event()

    def count(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        ).fetchone()
        assert row is not None
        return row[0]

    def sample(self) -> None:
        while not self.stopped.wait(0.02):
            self.peak = max(self.peak, self.count())


def _start(port: int, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    # As a developer's shell: no test-only settings, the script's own defaults.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {*DEPLOYMENT_VARIABLES, "GP_TESTING", "DATABASE_CONN_MAX_AGE"}
    }
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PORT": str(port),
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [ROOT / "scripts" / "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the script, runserver, worker and beat: one group to stop
        )


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            if _get(port, "/api/v1/health") == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("scripts/run did not serve within 60 s:\n" + log.read_text()[-3000:])


def _wait_for_beat_s_schedule(since: float) -> None:
    """Beat writes its schedule when it starts: in this checkout, not in a /tmp file every
    checkout on the machine shares."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        written = [p.stat().st_mtime for p in (ROOT / ".venv").glob("celerybeat-schedule*")]
        if written and max(written) >= since - 1:
            return
        time.sleep(0.2)
    pytest.fail("beat wrote no schedule under .venv/ within 60 s")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_make_run_answers_1000_requests_from_8_threads_and_keeps_few_connections(tmp_path):
    port = _free_port()
    log = tmp_path / "run.log"
    counter = ConnectionCounter()
    before = counter.count()
    started = time.time()
    process = _start(port, log)
    try:
        _wait_until_serving(process, port, log)
        _wait_for_beat_s_schedule(since=started)
        sampler = threading.Thread(target=counter.sample)
        sampler.start()
        try:
            with ThreadPoolExecutor(THREADS) as pool:
                statuses = Counter(
                    pool.map(lambda _: _get(port, "/api/v1/health"), range(REQUESTS))
                )
        finally:
            counter.stopped.set()
            sampler.join()
        after = counter.count()
    finally:
        _stop(process)
        left = counter.count()
        counter.conn.close()

    assert statuses == {200: REQUESTS}
    assert counter.peak <= before + FEW, counter.peak
    assert after <= before + 4, after  # the mirror's and the worker's, none per request
    assert left == before  # stopping it closed them all


def test_beat_s_schedule_file_is_the_checkout_s_own():
    """Two checkouts on one machine (or two users) must not share, or fail to open, one
    schedule file: scripts/run keeps it under the checkout's git-ignored .venv/."""
    script = (ROOT / "scripts" / "run").read_text()
    schedules = re.findall(r"--schedule=(\S+)", script)
    assert schedules and all(s.startswith('"$BEAT_SCHEDULE') for s in schedules), schedules
    assert re.search(r"^BEAT_SCHEDULE=\.venv/\S+$", script, re.M)
    assert 'cd "$(dirname "$0")/.."' in script  # relative paths are the checkout's
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_public_base_url_follows_port():
    assert configured("settings.PUBLIC_BASE_URL", PORT="8123") == "http://127.0.0.1:8123"
    assert configured("settings.PUBLIC_BASE_URL") == "http://127.0.0.1:8000"
    assert (
        configured("settings.PUBLIC_BASE_URL", PORT="8123", PUBLIC_BASE_URL="https://p.example")
        == "https://p.example"
    )
