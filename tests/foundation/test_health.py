from unittest import mock

import pytest


@pytest.mark.django_db
def test_health_reports_database_and_cache_ok(api_client):
    response = api_client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_health_is_503_when_the_cache_is_down(api_client):
    with mock.patch("gamingpanel.views.cache.set", side_effect=ConnectionError("down")):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json()["cache"] == "down"


@pytest.mark.django_db
def test_request_id_from_the_caller_is_echoed(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="abc12345-req")
    assert response["X-Request-ID"] == "abc12345-req"
