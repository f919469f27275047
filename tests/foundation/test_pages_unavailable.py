"""HTML pages answer a 503 page with Retry-After when PostgreSQL is down, not a 500: the
database connection really fails (the next connection goes to a port nothing listens on)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.test import Client, override_settings

from gamingpanel.pages import server_error

pytestmark = pytest.mark.postgres


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # free once closed: nothing listens there


@pytest.fixture
def operator_client(transactional_db: None) -> Client:
    user = User.objects.create_user("olga", password="pw-long-enough-1", is_staff=True)
    user.is_superuser = True
    user.save()
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def database_down() -> Iterator[None]:
    settings_dict = connection.settings_dict
    real = (settings_dict["HOST"], settings_dict["PORT"])
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(_closed_port())
    try:
        with pytest.raises(OperationalError):
            connection.ensure_connection()  # the outage is real
        yield
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = real
        connection.ensure_connection()


@pytest.mark.parametrize("path", ["/panel/", "/admin/", "/admin/auth/user/"])
def test_a_page_answers_503_with_retry_after_while_postgresql_is_down(
    operator_client, database_down, path
):
    response = operator_client.get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Temporarily unavailable" in page
    assert "Try again in 5 seconds" in page


def test_the_api_still_answers_problem_json_503(operator_client, database_down):
    response = Client(raise_request_exception=False).get("/api/v1/health")
    assert response.status_code == 503


def test_the_same_pages_answer_200_once_postgresql_is_back(operator_client):
    assert operator_client.get("/panel/").status_code in {200, 302}
    assert operator_client.get("/admin/").status_code == 200


@override_settings(DEBUG=False)
def test_a_failure_outside_any_view_is_the_503_page_too(rf):
    """handler500 sees the exception being handled: an outage is 503, a bug stays 500."""
    request = rf.get("/panel/")
    try:
        raise OperationalError("connection to server at 127.0.0.1 failed")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"

    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        assert server_error(request).status_code == 500

    api = rf.get("/api/v1/player/inventory")
    try:
        raise OperationalError("down")
    except OperationalError:
        response = server_error(api)
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "service_unavailable"


@override_settings(DEBUG=False)
def test_a_500_outside_any_view_carries_the_request_id(rf):
    from gamingpanel.logging import request_id_var

    token = request_id_var.set("req-123")
    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = server_error(rf.get("/api/v1/player/inventory"))
    finally:
        request_id_var.reset(token)

    assert response.status_code == 500
    assert json.loads(response.content)["request_id"] == "req-123"
