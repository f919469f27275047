"""Secrets in query strings never reach a log (issue 14 item 10): the Google Play webhook's
?token=, and any key, secret, signature or code parameter, nor a payment's public token in its
checkout or return page's path, sent to a real server (runserver as `make run` starts it,
granian as production runs it) on routes that answer 2xx, 4xx and 404, and to the admin's
login; nothing the processes print carries them."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import ROOT
from tests.foundation.test_compose import (  # noqa: F401
    _free_port,
    _wait_for_port,
    production_environment,
    production_granian,
)

SECRETS = {
    "token": "tok-SECRET-1a2b3c",
    "key": "key-SECRET-4d5e6f",
    "secret": "sec-SECRET-7a8b9c",
    "signature": "sig-SECRET-0d1e2f",
    "code": "code-SECRET-3a4b5c",
    "access_token": "acc-SECRET-6d7e8f",
}
REQUESTS = [
    ("POST", "/api/v1/payments/webhooks/google-play?token={token}", b"{}"),
    ("GET", "/api/v1/health?key={key}&secret={secret}", b""),
    ("GET", "/api/v1/no-such-route?signature={signature}", b""),
    ("GET", "/admin/login/?next=/panel/&code={code}", b""),
    ("GET", "/no-such-page/?access_token={access_token}", b""),
    ("POST", "/api/v1/auth/validate?token={token}", b"{}"),
    # A payment's public token is a path segment of its buyer's pages (404 for this one).
    ("GET", "/payments/sandbox/checkout/{token}", b""),
    ("GET", "/payments/return/{token}", b""),
]


def send_all(port: int, host: str = "127.0.0.1", **headers: str) -> list[int]:
    statuses = []
    for method, path, body in REQUESTS:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            conn.request(
                method,
                path.format(**SECRETS),
                body=body,
                headers={"Host": host, "Content-Type": "application/json", **headers},
            )
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        finally:
            conn.close()
    return statuses


def assert_no_secret(output: str) -> None:
    leaked = [name for name, value in SECRETS.items() if value in output]
    assert leaked == [], f"secrets in the log: {leaked}"


@pytest.mark.postgres
def test_runserver_logs_no_query_string_secret(transactional_db, tmp_path: Path):
    port = _free_port()
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_DEBUG": "1",
        "DATABASE_CONN_MAX_AGE": "0",
        "LOG_LEVEL": "INFO",
    }
    environment.pop("GP_TESTING", None)
    log_path = tmp_path / "runserver.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=log,
        )
        try:
            _wait_for_port(port, server, within=60)
            statuses = send_all(port)
            time.sleep(0.5)  # runserver writes a request's line after answering it
        finally:
            server.terminate()
            server.wait(timeout=15)
    output = log_path.read_text()
    assert 404 in statuses and any(status < 300 for status in statuses), statuses
    # The request lines are there, scrubbed: the log works, it just carries no secret.
    assert "/api/v1/payments/webhooks/google-play?token=[redacted]" in output, output[-2000:]
    assert_no_secret(output)


@pytest.mark.postgres
@pytest.mark.redis
def test_granian_in_production_logs_no_query_string_secret(production_granian, tmp_path: Path):  # noqa: F811
    environment = production_granian
    # As Caddy forwards them: HTTPS, so the redirect to it does not answer first.
    statuses = send_all(
        int(environment["PORT"]), host="panel.example.com", **{"X-Forwarded-Proto": "https"}
    )
    assert 404 in statuses, statuses
    time.sleep(0.5)
    output = (tmp_path / "granian.log").read_text()
    assert '"logger": "gamingpanel.access"' in output  # one access line a request, by route
    assert_no_secret(output)


def test_the_web_service_leaves_granian_s_own_access_log_off():
    """Granian's access log would write each path as it came; the app's access line (route, not
    path) is the one the stack keeps."""
    from tests.foundation.test_compose import _compose_command

    assert "--access-log" not in _compose_command("web")
