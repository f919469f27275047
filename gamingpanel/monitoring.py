"""The Prometheus scrape endpoint: what every process counted (gamingpanel.metrics), plus what is
read only when Prometheus asks: open purchases and payment events (a few indexed queries), the
Celery queue's length (Redis LLEN) and nothing else. Guarded by METRICS_TOKEN; without it the
endpoint does not exist (404).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from apps.accounts.models import Game
from apps.payments.models import ProviderEvent
from apps.shop.models import Purchase
from gamingpanel import metrics
from gamingpanel.problems import problem_response

logger = logging.getLogger(__name__)

SCRAPE_QUERY_TIMEOUT_MS = 2000
# Kombu's Redis transport keeps a queue's priorities in separate lists: name, then name + sep + n.
KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics with `Authorization: Bearer <METRICS_TOKEN>`."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return problem_response(
            status=404, code="not_found", title="Not found", detail="Metrics are not enabled."
        )
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        response = problem_response(
            status=401,
            code="not_authenticated",
            title="Not authenticated",
            detail="Send the scrape token as Authorization: Bearer <METRICS_TOKEN>.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if metrics.MULTIPROCESS:
        forget_dead_processes(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        MultiProcessCollector(registry)  # every process's files in PROMETHEUS_MULTIPROC_DIR
    else:
        registry.register(_ThisProcess())
    registry.register(ScrapeTimeCollector())
    return registry


def forget_dead_processes(directory: str) -> None:
    """Drop the live gauges of web processes that died without running their exit hook (killed,
    crashed): a dead worker's mirror stamp would otherwise stay the oldest until a restart. Only
    web processes keep live gauges, and they share this host's process ids."""
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)
        except PermissionError:
            pass  # alive, another user's


class _ThisProcess:
    """One process (tests, runserver): its own registry, process and GC metrics included."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class ScrapeTimeCollector:
    """Read at scrape time. A source that fails is reported as gp_scrape_source_up 0 and logged;
    the rest of the scrape still answers."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "gp_scrape_source_up", "1 when this scrape could read the source.", labels=["source"]
        )
        sources: list[tuple[str, Callable[[], list[Metric]]]] = [
            ("database", database_metrics),
            ("celery_broker", queue_metrics),
        ]
        for name, read in sources:
            try:
                found = read()
            except Exception:
                logger.exception("metrics: could not read %s", name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from found
        yield up


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def database_metrics() -> list[Metric]:
    """Open purchases per game (counted per game on the (game, status) index), purchases flagged
    for attention, and payment notifications not yet processed or failed (the (status,
    received_at) index). Closed purchases are never counted: that table only grows."""
    now = timezone.now()
    pending = Purchase.objects.filter(game=OuterRef("pk"), status=Purchase.Status.PENDING)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {SCRAPE_QUERY_TIMEOUT_MS}")
        games = list(
            Game.objects.annotate(
                pending=Subquery(
                    pending.order_by().values("game").annotate(n=Count("pk")).values("n")
                ),
                oldest=Subquery(pending.order_by("created_at").values("created_at")[:1]),
            ).values_list("pk", "slug", "pending", "oldest")
        )
        attention = dict(
            Purchase.objects.filter(needs_attention=True)
            .order_by()
            .values("game")
            .annotate(n=Count("pk"))
            .values_list("game", "n")
        )
        events = {
            row["status"]: row
            for row in ProviderEvent.objects.filter(
                status__in=[ProviderEvent.Status.RECEIVED, ProviderEvent.Status.FAILED]
            )
            .order_by()
            .values("status")
            .annotate(n=Count("pk"), oldest=Min("received_at"))
        }

    purchases = GaugeMetricFamily(
        "gp_purchases", "Purchases by game and state (open states only).", labels=["game", "state"]
    )
    oldest_pending = GaugeMetricFamily(
        "gp_purchase_oldest_pending_age_seconds",
        "Age of the game's oldest purchase still waiting for its payment (0: none).",
        labels=["game"],
    )
    for pk, slug, n_pending, oldest in games:
        purchases.add_metric([slug, Purchase.Status.PENDING], n_pending or 0)
        purchases.add_metric([slug, "needs_attention"], attention.get(pk, 0))
        oldest_pending.add_metric([slug], _age(oldest, now))
    payment_events = GaugeMetricFamily(
        "gp_payment_events",
        "Payment notifications by state: received (not processed yet) and failed.",
        labels=["state"],
    )
    oldest_event = GaugeMetricFamily(
        "gp_payment_event_oldest_unprocessed_age_seconds",
        "Age of the oldest payment notification not processed yet (0: none).",
    )
    for state in (ProviderEvent.Status.RECEIVED, ProviderEvent.Status.FAILED):
        payment_events.add_metric([state], events.get(state, {}).get("n", 0))
    oldest_event.add_metric(
        [], _age(events.get(ProviderEvent.Status.RECEIVED, {}).get("oldest"), now)
    )
    return [purchases, oldest_pending, payment_events, oldest_event]


def queue_keys(queue: str) -> list[str]:
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    return [
        f"{prefix}{queue}{KOMBU_PRIORITY_SEPARATOR}{step}" if step else f"{prefix}{queue}"
        for step in KOMBU_PRIORITY_STEPS
    ]


def queue_metrics() -> list[Metric]:
    """Tasks waiting in the Celery queue (LLEN, one pipelined round trip). Nothing when the
    broker is not Redis (eager tasks, tests)."""
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith(("redis://", "rediss://", "unix://")):
        return []
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client = redis.Redis.from_url(broker, socket_timeout=2, socket_connect_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        for key in queue_keys(queue):
            pipe.llen(key)
        lengths = pipe.execute()
    finally:
        client.close()
    depth = GaugeMetricFamily(
        "gp_celery_queue_length", "Tasks waiting in the Celery queue.", labels=["queue"]
    )
    depth.add_metric([queue], sum(lengths))
    return [depth]
