"""Logging in through the real endpoint, and real web processes for cross-process tests."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.mirror import mirror
from apps.accounts.models import Game
from apps.platforms.models import PlatformCredential
from tests.conftest import ROOT

LOGIN = "/api/v1/auth/third-party/login"
REFRESH = "/api/v1/auth/refresh"
VALIDATE = "/api/v1/auth/validate"
LOGOUT = "/api/v1/auth/logout"


@pytest.fixture
def dev_platform(game: Game) -> PlatformCredential:
    return PlatformCredential.objects.create(game=game, platform="dev", enabled=True)


@pytest.fixture
def login(dev_platform: PlatformCredential) -> Callable[..., dict]:
    """Log in with the dev platform as `user_id`; returns the 200 body."""

    def log_in(user_id: str = "alice", *, game_key: str = "alpha-client-key") -> dict:
        response = APIClient().post(
            LOGIN,
            {"platform": "dev", "credentials": {"user_id": user_id, "display_name": user_id}},
            HTTP_X_GAME_KEY=game_key,
        )
        assert response.status_code == 200, response.content
        return response.json()

    return log_in


@pytest.fixture
def tokens(login: Callable[..., dict]) -> dict:
    return login("alice")


def bearer(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


def assert_problem(response: object, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    return body


@dataclass
class WebProcess:
    """A granian WSGI worker serving the panel on 127.0.0.1, reading this test's database."""

    port: int
    process: subprocess.Popen

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            all_headers = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, json.loads(raw) if raw else {}
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(web: WebProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise RuntimeError("the web process exited during start-up")
        try:
            web.request("GET", "/api/v1/health")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the web process did not answer within 30 s")


@pytest.fixture
def start_web(transactional_db: None) -> Iterator[Callable[..., WebProcess]]:
    """Start web processes (each its own Python) on this test's PostgreSQL and Redis."""
    started: list[WebProcess] = []
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "tests.accounts.server_settings",
        "GP_TESTING": "1",
        "LOG_LEVEL": "ERROR",
        # As in production: web processes mirror revocations.
        "REVOCATION_MIRROR": "1",
    }

    def start(*, blocking_threads: int | None = None) -> WebProcess:
        """`blocking_threads`: granian's threads serving requests (its default otherwise)."""
        port = _free_port()
        threads = ("--blocking-threads", str(blocking_threads)) if blocking_threads else ()
        command = [
            *(sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1", *threads),
            *("--log-level", "error", "gamingpanel.wsgi:application"),
        ]
        web = WebProcess(port, subprocess.Popen(command, cwd=ROOT, env=env))
        started.append(web)
        _wait_until_serving(web)
        return web

    yield start
    for web in started:
        web.stop()


@pytest.fixture
def running_mirror(settings) -> Iterator[None]:  # noqa: ANN001
    """This process's revocation mirror, started for the test (REVOCATION_MIRROR on)."""
    settings.REVOCATION_MIRROR = True
    mirror.stop()
    mirror.start()
    yield
    mirror.stop()


def refresh_racing(
    refresh_token: str, other: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> tuple[object, object]:
    """A refresh held once it holds its session's row lock, before it records its session start
    (a row naming the player: a key-share lock on the player's row); `other` (in a transaction
    of its own) started meanwhile, and once it waits for a lock (the session), the refresh goes
    on. Answers the refresh's response and what `other` returned; a deadlock raises."""
    import threading

    from django.db import transaction

    from apps.login.services import login as login_service
    from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

    locked, go = threading.Event(), threading.Event()
    record = login_service._record_session_start

    def held_record(session: object, *, kind: str) -> None:
        locked.set()  # the refresh holds the session's row lock from here to its commit
        go.wait(10)
        record(session, kind=kind)

    def in_a_transaction() -> object:
        with transaction.atomic():
            return other()

    monkeypatch.setattr(login_service, "_record_session_start", held_record)
    refreshing = in_thread(lambda: APIClient().post(REFRESH, {"refresh_token": refresh_token}))
    assert locked.wait(10)
    racing = in_thread(in_a_transaction)
    try:
        wait_until_a_statement_waits_for_a_lock()  # `other`, for the session the refresh holds
    finally:
        go.set()
    return refreshing.result(15), racing.result(15)
