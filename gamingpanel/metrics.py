"""Prometheus metrics every layer may count into (docs/guide/monitoring.md).

Counting is the only work the request path does: a counter or histogram update is an in-memory
add (a few microseconds; an mmap write when PROMETHEUS_MULTIPROC_DIR is set). Anything read from
the database, Redis or another process's state is collected when Prometheus scrapes
(gamingpanel.monitoring), never per request.

Several web processes (granian workers) and Celery workers each count on their own. With
PROMETHEUS_MULTIPROC_DIR set in the environment *before the process starts* (prometheus_client
reads it at import), every process writes its values into files in that directory and the
scrape endpoint adds them up (MultiProcessCollector). The directory must be emptied when the
server starts, before any worker runs (docs/operations/README.md).
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# Seconds: a warm read is a few milliseconds, a login with a platform call up to the 8 s budget.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Histogram(
    "gp_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status (its _count counts them).",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
LOGINS = Counter(
    "gp_logins_total",
    "Platform logins by platform and outcome (ok, or the problem code).",
    ["platform", "outcome"],
)
TOKEN_VALIDATIONS = Counter(
    "gp_token_validations_total",
    "Access-token checks by game servers (auth/validate, multiplayer/validate-token): valid, "
    "or the reason it was not.",
    ["outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "gp_rate_limit_refusals_total",
    "Requests answered 429 rate_limited, by budget (api:session, auth:address, auth:game).",
    ["budget"],
)
PAYMENT_EVENTS = Counter(
    "gp_payment_events_total",
    "Payment-provider notifications handled, by provider and state (processed, ignored, failed).",
    ["provider", "state"],
)
TASK_FAILURES = Counter(
    "gp_celery_task_failures_total", "Celery tasks that raised, by task name.", ["task"]
)
TASK_RETRIES = Counter(
    "gp_celery_task_retries_total", "Celery task retries, by task name.", ["task"]
)
# Each web process's revocation mirror stamps the wall-clock time it last proved itself current.
# With several processes the scrape keeps the oldest stamp among live ones ("livemin"), so
# `time() - gp_revocation_mirror_checked_timestamp_seconds` is the stalest mirror's age.
# A label, so a process whose mirror never ran (a Celery worker, REVOCATION_MIRROR off) reports
# nothing rather than a 0 that would be the oldest stamp.
MIRROR_CHECKED = Gauge(
    "gp_revocation_mirror_checked_timestamp_seconds",
    "Unix time the revocation mirror last proved itself current (oldest among live processes).",
    ["mirror"],
    multiprocess_mode="livemin",
)

# Label values come from a fixed set, never from what a client sent: a label per distinct value
# would grow without bound.
UNKNOWN = "unknown"


def bounded(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else UNKNOWN


def mirror_checked() -> None:
    MIRROR_CHECKED.labels("revocation").set(time.time())


def _forget_this_process() -> None:
    """A process that ends drops its "live" gauges, so a dead worker's mirror is not the
    stalest forever. Its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid())


if MULTIPROCESS:
    atexit.register(_forget_this_process)
