"""Several processes (granian workers, Celery workers) count into PROMETHEUS_MULTIPROC_DIR and
one scrape adds them up; a process that exits drops its live gauges but keeps its counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

COUNT = """
import os
from gamingpanel import metrics
assert metrics.MULTIPROCESS
metrics.LOGINS.labels("dev", "ok").inc()
metrics.REQUESTS.labels("health", "GET", "200").observe(0.003)
metrics.mirror_checked()
"""

SCRAPE = """
import django
django.setup()
from prometheus_client import generate_latest
from gamingpanel.monitoring import scrape_registry
print(generate_latest(scrape_registry()).decode())
"""


def run(code: str, directory: Path) -> str:
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
        "CELERY_BROKER_URL": "memory://",  # the scrape's queue source: nothing to read
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_counts_of_every_process_are_added_up_at_scrape(tmp_path):
    run(COUNT, tmp_path)
    run(COUNT, tmp_path)

    text = run(SCRAPE, tmp_path)

    assert 'gp_logins_total{outcome="ok",platform="dev"} 2.0' in text
    assert (
        'gp_http_request_duration_seconds_count{method="GET",route="health",status="200"} 2.0'
        in text
    )
    # Both processes have exited: their mirror stamps are not reported as the stalest mirror.
    assert "gp_revocation_mirror_checked_timestamp_seconds{" not in text


def test_a_killed_process_is_not_reported_as_the_stalest_mirror(tmp_path):
    stamp = """
import os, signal
from gamingpanel import metrics
metrics.mirror_checked()
os.kill(os.getpid(), signal.SIGKILL)  # no exit hook runs
"""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    killed = subprocess.run([sys.executable, "-c", stamp], cwd=ROOT, env=env, timeout=60)
    assert killed.returncode == -9
    assert list(tmp_path.glob("gauge_livemin_*.db"))  # what it left behind

    text = run(SCRAPE, tmp_path)

    assert "gp_revocation_mirror_checked_timestamp_seconds{" not in text
    assert not list(tmp_path.glob("gauge_livemin_*.db"))
