"""One JSON access line per request, and the request id on every line, warnings included."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gamingpanel.celery import (
    REQUEST_ID_HEADER,
    _drop_request_id,
    _send_request_id,
    _take_request_id,
)
from gamingpanel.logging import request_id_var

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v1/player/inventory"


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "gamingpanel.access"]


def test_a_player_request_logs_one_access_line_with_its_game_player_and_id(game, login, json_lines):
    tokens = login("alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    response = client.get(WHOAMI, HTTP_X_REQUEST_ID="req-0123456789")

    lines = access_lines(json_lines())
    assert len(lines) == 2  # the login, then this request
    line = lines[-1]
    assert line["request_id"] == "req-0123456789" == response["X-Request-ID"]
    assert (line["method"], line["status"]) == ("GET", response.status_code)
    assert line["route"] and line["route"] != "unmatched"
    assert line["game_id"] == game.pk
    assert line["route"] == "player-inventory"
    assert line["player_id"] == tokens["player"]["id"]
    assert isinstance(line["duration_ms"], float)
    assert lines[0]["route"] == "auth-third-party-login" and lines[0]["game_id"] == line["game_id"]


def test_no_token_secret_or_query_string_reaches_the_log(login, json_lines):
    tokens = login("alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    client.get(f"{WHOAMI}?token=TOPSECRETVALUE&key=ANOTHERSECRET")
    client.get("/api/v1/no-such-endpoint?password=HUNTER2HUNTER2")  # a 404 warning line too

    text = "\n".join(str(line) for line in json_lines())
    for secret in (tokens["access_token"], tokens["refresh_token"], "TOPSECRETVALUE"):
        assert secret not in text
    assert "ANOTHERSECRET" not in text and "HUNTER2HUNTER2" not in text


def test_a_4xx_warning_names_the_route_not_the_path(json_lines):
    # A path can carry what a secret is (a sandbox checkout's token, a save's key).
    response = APIClient().get("/api/v1/player/saves/PATHSECRET42")
    assert response.status_code == 401

    warnings = [line["message"] for line in json_lines() if line["level"] == "WARNING"]
    assert any("player-save" in message for message in warnings), warnings
    assert not any("PATHSECRET42" in message for message in warnings)


def test_4xx_warning_lines_carry_the_request_id(json_lines):
    response = APIClient().get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="req-warning-42")
    assert response.status_code == 404

    warnings = [line for line in json_lines() if line["level"] == "WARNING"]
    assert warnings, "Django writes a 'Not Found' warning for a 404"
    assert {line["request_id"] for line in warnings} == {"req-warning-42"}
    assert len([line for line in warnings if "Not Found" in line["message"]]) == 1  # not twice


def test_a_refused_login_warning_carries_the_request_id(json_lines, dev_platform):
    response = APIClient().post(
        "/api/v1/auth/third-party/login",
        {"platform": "dev", "credentials": {"user_id": "a"}},
        format="json",
        HTTP_X_GAME_KEY="wrong-key",
        HTTP_X_REQUEST_ID="req-refused-77",
    )
    assert response.status_code == 401

    lines = json_lines()
    assert [line["request_id"] for line in lines if line["level"] == "WARNING"] == [
        "req-refused-77"
    ]
    assert access_lines(lines)[0]["status"] == 401


def test_the_access_log_can_be_turned_off(settings, json_lines):
    settings.ACCESS_LOG = False
    APIClient().get("/api/v1/health")
    assert access_lines(json_lines()) == []


def test_a_task_queued_during_a_request_logs_with_its_request_id():
    class Task:
        class request:  # noqa: N801  (Celery's task.request)
            pass

    token = request_id_var.set("req-task-1234")
    headers: dict = {}
    _send_request_id(headers=headers)
    request_id_var.reset(token)
    assert headers == {REQUEST_ID_HEADER: "req-task-1234"}

    task = Task()
    task.request.gp_request_id = headers[REQUEST_ID_HEADER]
    _take_request_id(task=task)
    assert request_id_var.get() == "req-task-1234"
    _drop_request_id(task=task)
    assert request_id_var.get() == "-"
