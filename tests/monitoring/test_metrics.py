"""Prometheus metrics: what the request path counts, what a scrape reads, and the endpoint's
guard (docs/guide/monitoring.md)."""

from __future__ import annotations

import re
import time

import pytest
import redis
from celery.exceptions import Retry
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.mirror import mirror
from apps.payments.models import ProviderEvent
from apps.payments.services.processing import mark_failed
from apps.shop.models import Purchase
from gamingpanel.celery import app as celery_app
from gamingpanel.monitoring import queue_keys
from tests.accounts.conftest import LOGIN, VALIDATE
from tests.conftest import eventually
from tests.monitoring.conftest import SCRAPE_TOKEN, sample
from tests.shop.helpers import make_economy, make_offer

pytestmark = pytest.mark.django_db

REQUEST_COUNT = "gp_http_request_duration_seconds_count"


def value_in(text: str, name: str, **labels: str) -> float:
    """One sample's value in an exposition text."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if match and match[1] == name:
            given = ",".join(sorted((match[2] or "").split(","))) if match[2] else ""
            if given == wanted:
                return float(match[3])
    raise AssertionError(f"no {name}{{{wanted}}} in the scrape")


def test_requests_are_counted_by_route_method_and_status_with_latency():
    before = sample(REQUEST_COUNT, route="health", method="GET", status="200")
    unmatched = sample(REQUEST_COUNT, route="unmatched", method="GET", status="404")

    assert APIClient().get("/api/v1/health").status_code == 200
    assert APIClient().get("/api/v1/no-such-thing").status_code == 404

    assert sample(REQUEST_COUNT, route="health", method="GET", status="200") == before + 1
    assert sample(REQUEST_COUNT, route="unmatched", method="GET", status="404") == unmatched + 1
    assert (
        sample(
            "gp_http_request_duration_seconds_bucket",
            route="health",
            method="GET",
            status="200",
            le="+Inf",
        )
        == before + 1
    )


def test_a_made_up_method_is_one_label_not_one_per_value():
    before = sample(REQUEST_COUNT, route="health", method="other", status="405")
    APIClient().generic("BREW", "/api/v1/health")
    assert sample(REQUEST_COUNT, route="health", method="other", status="405") == before + 1
    assert sample(REQUEST_COUNT, route="health", method="BREW", status="405") == 0


def test_logins_are_counted_by_platform_and_outcome(login):
    ok = sample("gp_logins_total", platform="dev", outcome="ok")
    refused = sample("gp_logins_total", platform="steam", outcome="platform_not_configured")

    login("alice")
    answer = APIClient().post(
        LOGIN,
        {"platform": "steam", "credentials": {"ticket": "00ff"}},
        format="json",
        HTTP_X_GAME_KEY="alpha-client-key",
    )

    assert answer.status_code == 400
    assert sample("gp_logins_total", platform="dev", outcome="ok") == ok + 1
    assert (
        sample("gp_logins_total", platform="steam", outcome="platform_not_configured")
        == refused + 1
    )


def test_token_validations_are_counted_by_outcome(login, server_client):
    token = login("alice")["access_token"]
    valid = sample("gp_token_validations_total", outcome="valid")
    invalid = sample("gp_token_validations_total", outcome="invalid_token")

    assert server_client.post(VALIDATE, {"token": token}, format="json").data["valid"] is True
    assert server_client.post(VALIDATE, {"token": "nope"}, format="json").data["valid"] is False

    assert sample("gp_token_validations_total", outcome="valid") == valid + 1
    assert sample("gp_token_validations_total", outcome="invalid_token") == invalid + 1


def test_rate_limit_refusals_are_counted_by_budget(settings, dev_platform):
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 1
    before = sample("gp_rate_limit_refusals_total", budget="auth:address")

    statuses = [
        APIClient()
        .post(
            LOGIN,
            {"platform": "dev", "credentials": {"user_id": "alice"}},
            format="json",
            HTTP_X_GAME_KEY="alpha-client-key",
        )
        .status_code
        for _ in range(3)  # a minute's window may end between two of them, not between all three
    ]

    assert statuses.count(429) >= 1
    assert sample("gp_rate_limit_refusals_total", budget="auth:address") == before + statuses.count(
        429
    )


def test_the_endpoint_needs_its_token(settings):
    settings.METRICS_TOKEN = ""
    assert APIClient().get("/metrics").status_code == 404  # off unless configured

    settings.METRICS_TOKEN = SCRAPE_TOKEN
    assert APIClient().get("/metrics").status_code == 401
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    answer = APIClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert "gp_http_request_duration_seconds" in answer.content.decode()
    lower = APIClient().get("/metrics", HTTP_AUTHORIZATION=f"bearer {SCRAPE_TOKEN}")
    assert lower.status_code == 200  # a scheme's name is case-insensitive


def test_a_scrape_reads_open_purchases_and_payment_events(scrape, game, player):
    make_economy(game)
    offer = make_offer(game, real_money=True, price_currency="USD", price_amount=199)
    fields = {"game": game, "player": player, "offer": offer, "price_currency": "USD"}
    old = Purchase.objects.create(**fields, price_amount=199, idempotency_key="a")
    Purchase.objects.create(**fields, price_amount=199, idempotency_key="b")
    Purchase.objects.create(
        **fields, price_amount=199, idempotency_key="c", status=Purchase.Status.COMPLETED
    )
    Purchase.objects.create(
        **fields,
        price_amount=199,
        idempotency_key="d",
        status=Purchase.Status.FAILED,
        needs_attention=True,
    )
    Purchase.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timezone.timedelta(hours=3)
    )
    received = ProviderEvent.objects.create(
        game=game, provider="stripe", event_id="evt_1", event_type="x", payload={}
    )
    ProviderEvent.objects.filter(pk=received.pk).update(
        received_at=timezone.now() - timezone.timedelta(minutes=10)
    )
    failing = ProviderEvent.objects.create(
        game=game, provider="stripe", event_id="evt_2", event_type="x", payload={}
    )
    failed_before = sample("gp_payment_events_total", provider="stripe", state="failed")
    mark_failed(event_pk=failing.pk, error="boom")

    text = scrape()

    assert value_in(text, "gp_purchases", game="alpha", state="pending") == 2
    assert value_in(text, "gp_purchases", game="alpha", state="needs_attention") == 1
    assert (
        3 * 3600
        <= value_in(text, "gp_purchase_oldest_pending_age_seconds", game="alpha")
        < 4 * 3600
    )
    assert value_in(text, "gp_payment_events", state="received") == 1
    assert value_in(text, "gp_payment_events", state="failed") == 1
    assert 600 <= value_in(text, "gp_payment_event_oldest_unprocessed_age_seconds") < 700
    assert value_in(text, "gp_scrape_source_up", source="database") == 1
    assert sample("gp_payment_events_total", provider="stripe", state="failed") == failed_before + 1


def test_a_scrape_with_nothing_open_reports_zeros(scrape, game):
    text = scrape()
    assert value_in(text, "gp_purchases", game="alpha", state="pending") == 0
    assert value_in(text, "gp_purchase_oldest_pending_age_seconds", game="alpha") == 0
    assert value_in(text, "gp_payment_events", state="received") == 0


@pytest.mark.redis
def test_a_scrape_reads_the_celery_queue_length(scrape):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = queue_keys(settings.CELERY_TASK_DEFAULT_QUEUE)

    def three_waiting() -> bool:
        # Another test process's cache.clear() (FLUSHDB) may empty the database meanwhile:
        # then this attempt is not counted and the next one starts over.
        client.delete(*keys)
        client.lpush(keys[0], "a", "b")
        client.lpush(keys[2], "c")  # a priority list counts too
        text = scrape()
        assert value_in(text, "gp_scrape_source_up", source="celery_broker") == 1
        return value_in(text, "gp_celery_queue_length", queue="gamingpanel") == 3

    try:
        eventually(three_waiting, within=10)
    finally:
        client.delete(*keys)
        client.close()


def test_an_unreachable_source_is_reported_and_the_rest_still_answers(scrape, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    text = scrape()
    assert value_in(text, "gp_scrape_source_up", source="celery_broker") == 0
    assert value_in(text, "gp_scrape_source_up", source="database") == 1


@celery_app.task(name="tests.monitoring.fails")
def fails() -> None:
    raise ValueError("boom")


@celery_app.task(name="tests.monitoring.retries", bind=True, max_retries=1)
def retries(self) -> None:  # noqa: ANN001
    raise self.retry(exc=ValueError("again"), countdown=0)


def test_celery_task_failures_and_retries_are_counted():
    failures = sample("gp_celery_task_failures_total", task="tests.monitoring.fails")
    retried = sample("gp_celery_task_retries_total", task="tests.monitoring.retries")

    with pytest.raises(ValueError):
        fails.apply(throw=False).get(propagate=True)
    with pytest.raises((ValueError, Retry)):
        retries.apply(throw=False).get(propagate=True)

    assert sample("gp_celery_task_failures_total", task="tests.monitoring.fails") == failures + 1
    assert sample("gp_celery_task_retries_total", task="tests.monitoring.retries") >= retried + 1


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_revocation_mirror_stamps_its_freshness(settings):
    settings.REVOCATION_MIRROR = True
    started = time.time()
    mirror.stop()
    mirror.start()
    try:
        eventually(
            lambda: (
                sample("gp_revocation_mirror_checked_timestamp_seconds", mirror="revocation")
                >= started
            ),
            within=5,
        )
        stamped = sample("gp_revocation_mirror_checked_timestamp_seconds", mirror="revocation")
        assert started <= stamped <= time.time()
    finally:
        mirror.stop()
