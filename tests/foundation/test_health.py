"""Readiness (GET /api/v1/health, what a load balancer probes) and liveness
(GET /api/v1/health/live, what the web container's health check asks).

The panel keeps serving without Redis (rate limits let requests through, token checks ask the
database), so a cache outage must not take every node out of a load balancer: readiness answers
503 only when the database is down. Liveness asks nothing of either."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection


@pytest.mark.django_db
def test_health_reports_database_and_cache_ok(api_client):
    response = api_client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_health_stays_200_and_says_degraded_when_the_cache_is_down(api_client):
    with mock.patch("gamingpanel.views.cache.set", side_effect=ConnectionError("down")):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "down"}


@pytest.mark.django_db
def test_health_is_503_when_the_database_is_down(api_client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "down", "cache": "ok"}


@pytest.mark.django_db
def test_health_is_503_when_both_are_down(api_client):
    with (
        mock.patch.object(connection, "cursor", side_effect=OperationalError("down")),
        mock.patch("gamingpanel.views.cache.set", side_effect=ConnectionError("down")),
    ):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "down", "cache": "down"}


@pytest.mark.django_db
def test_liveness_answers_with_the_database_and_the_cache_down(
    api_client, django_assert_max_num_queries
):
    broken = ConnectionError("down")
    with (
        django_assert_max_num_queries(0),
        mock.patch.object(connection, "cursor", side_effect=OperationalError("down")),
        mock.patch.object(cache, "get", side_effect=broken),
        mock.patch.object(cache, "set", side_effect=broken),
        mock.patch.object(cache, "add", side_effect=broken),
        mock.patch.object(cache, "incr", side_effect=broken),
    ):
        response = api_client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_request_id_from_the_caller_is_echoed(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="abc12345-req")
    assert response["X-Request-ID"] == "abc12345-req"
