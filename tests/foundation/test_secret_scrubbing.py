"""Credentials never reach a log line, a Celery worker's output, django-axes' stored attempts or
Django's error page: the shapes the one scrubber (gamingpanel.logging.scrub) removes, the worker
logging through it, the sign-in form's authenticator code masked, URL passwords hidden from the
settings Django's error page lists."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.views.debug import technical_500_response
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from gamingpanel.logging import scrub
from tests.conftest import ROOT

# Each: text a log line or an exception's message can carry, and the credential in it.
LEAKS = {
    # A repr's keyword (a dataclass, an exception's arguments): the value is quoted with '.
    "repr keyword": ("VerifiedReceipt(transaction_id='1', token='pt-REPR-SECRET')", "REPR-SECRET"),
    # Stripe's signature header: t=…,v1=…; the signature is after the comma.
    "stripe signature": ("Stripe-Signature: t=1700000000,v1=5a6b7c8d9e0f", "5a6b7c8d9e0f"),
    # A service account's or an Apple .p8 key, as a dict's repr writes it.
    "pem private key": (
        "{'private_key': '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
        "\\n-----END PRIVATE KEY-----\\n', 'client_email': 'gp@example.iam'}",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    ),
    "quoted value with spaces": ('{"password": "correct horse battery"}', "horse battery"),
    "secret named *_key": ('{"publisher_key": "PUBKEY-7d1e", "app_id": "480"}', "PUBKEY-7d1e"),
    "auth code": ('{"server_auth_code": "4/0AX4Xf-CODE"}', "4/0AX4Xf-CODE"),
    "basic authorization": ("Authorization: Basic Z3A6Y2xpZW50LXNlY3JldA==", "Z3A6Y2xpZW50"),
    "url password": ("Error connecting to redis://:r3d1s-pw@cache:6379/0", "r3d1s-pw"),
    "session cookie": ("Cookie: sessionid=8f3kq0sessioncookie; theme=dark", "8f3kq0session"),
    "google play purchase token": (
        "POST /androidpublisher/v3/applications/com.studio.game/purchases/products/gems/"
        "tokens/opaque-purchase-token.AO-J1Ox:acknowledge failed",
        "opaque-purchase-token",
    ),
    "server key anywhere": (f"server sk_{'Q' * 43} refused", "Q" * 43),
    "refresh token anywhere": (f"rotated rt_{'w' * 43}", "w" * 43),
    "stripe secret key anywhere": ("sent sk_live_51Hx9Zq2eZvKYlo2C", "51Hx9Zq2eZvKYlo2C"),
    "stripe webhook secret anywhere": ("whsec_5a6b7c8d9e0f1a2b did not match", "5a6b7c8d9e0f"),
    "google access token anywhere": ("token ya29.a0AfH6SMBx-GOOGLE", "a0AfH6SMBx-GOOGLE"),
}


@pytest.mark.parametrize("text, secret", LEAKS.values(), ids=LEAKS.keys())
def test_scrub_removes_the_credential_and_keeps_the_context(text, secret):
    cleaned = scrub(text)

    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_scrub_keeps_names_that_are_not_secrets():
    text = (
        '{"key": "settings", "code": "card_declined", "status_code": 402, "app_id": "480"} '
        "the route payments/return/<str:token> and /payments/return/{token}"
    )

    assert scrub(text) == text


# What `celery worker` and `celery beat` do at start (celery.apps.worker.Worker.setup_logging),
# then a task's failure as Celery's tracer writes it.
WORKER_START = """
import logging
import django
django.setup()
from gamingpanel.celery import app
app.log.setup(loglevel="INFO")
logging.getLogger("celery.app.trace").error(
    "Task %s[%s] raised unexpected: %r",
    "apps.payments.tasks.finish_google_purchase",
    "b1f0",
    ConnectionError("https://api.steampowered.com/ISteamUser/x?key=PUBLISHER-SECRET-1"),
)
"""


def test_a_worker_logs_json_lines_scrubbed_as_the_web_does():
    """Celery replaces the root logger's handlers at a worker's start unless told otherwise:
    its plain-text handler wrote every line unscrubbed."""
    run = subprocess.run(
        [sys.executable, "-c", WORKER_START],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
            "DJANGO_DEBUG": "1",
            "GP_TESTING": "1",
            "LOG_LEVEL": "WARNING",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr
    assert "PUBLISHER-SECRET-1" not in output
    lines = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert [line["logger"] for line in lines] == ["celery.app.trace"]
    assert "key=[redacted]" in lines[0]["message"]


@pytest.mark.redis
def test_a_real_worker_writes_no_message_s_credential():
    """A real worker on the broker, sent a task it does not know: Celery logs the whole message
    (its arguments too) as an error."""
    queue = f"test-secrets-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "GP_TESTING": "1",
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "gamingpanel", "worker", "--pool=solo", "-Q"]
        + [queue, "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    from gamingpanel.celery import app

    try:
        app.send_task("gp.no_such_task", kwargs={"token": "MESSAGE-SECRET-2"}, queue=queue)
        deadline = time.monotonic() + 45
        lines: list[str] = []
        assert worker.stdout is not None
        while time.monotonic() < deadline and worker.poll() is None:
            lines.append(worker.stdout.readline())
            if "delivery info" in "".join(lines):  # the end of the message's long text
                break
    finally:
        worker.terminate()
        rest, _ = worker.communicate(timeout=30)
    output = "".join(lines) + rest
    assert "unregistered task" in output  # the worker did log the message
    assert "MESSAGE-SECRET-2" not in output
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("gp.no_such_task" in line["message"] for line in logged)


@pytest.mark.django_db
def test_a_failed_sign_in_stores_no_authenticator_code():
    """A wrong password with the right code: django-axes stores the attempt's form data."""
    user = User.objects.create_user("olga", password="the-right-one", is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = f"{totp.token():0{device.digits}d}"

    Client().post(
        "/admin/login/?next=/panel/",
        {"username": "olga", "password": "a-wrong-one", "otp_token": code},
    )

    stored = " ".join(row.post_data for row in AccessAttempt.objects.all())
    assert "otp_token=" in stored  # the attempt was recorded, its form data with it
    assert code not in stored


def error_page() -> str:
    """Django's error page (DEBUG) for a page that failed; caught here, so that the page's
    traceback holds this frame, not the test's (whose variables it would show)."""
    try:
        raise RuntimeError("a page failed")
    except RuntimeError:
        request = RequestFactory().get("/panel/")
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_django_s_error_page_shows_no_url_setting_s_password(settings):
    """DEBUG's error page lists the settings; Django hides only those named like a secret."""
    broker_password, cache_password = secrets.token_hex(8), secrets.token_hex(8)
    settings.DEBUG = True
    settings.CELERY_BROKER_URL = f"redis://:{broker_password}@cache:6379/0"
    settings.CACHES = {
        **settings.CACHES,
        "extra": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://gp:{cache_password}@cache:6379/1",
        },
    }

    page = error_page()

    assert "a page failed" in page and "CELERY_BROKER_URL" in page
    assert "redis://:[redacted]@cache:6379/0" in page
    assert broker_password not in page and cache_password not in page
