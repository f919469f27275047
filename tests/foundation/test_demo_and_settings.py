import subprocess
import sys

import pytest
from django.core.management import call_command

from apps.accounts.models import Game, ServerKey, hash_key
from apps.inventory.models import Currency
from apps.platforms.models import PlatformCredential
from tests.conftest import ROOT


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", quiet=True)
    call_command("seed_demo", quiet=True)

    game = Game.objects.get(slug="demo")
    assert game.client_key == "demo-client-key" and game.sandbox
    assert ServerKey.objects.filter(key_hash=hash_key("demo-server-key")).count() == 1
    assert PlatformCredential.objects.filter(game=game, platform="dev").count() == 1
    assert Currency.objects.filter(game=game).count() >= 2


def _start_django(env: dict, *, then: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {then}"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "gamingpanel.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("extra", "db"),
    [
        ({}, 4),  # one process: REDIS_URL as given
        ({"PYTEST_XDIST_WORKER": "gw0"}, 4),
        ({"PYTEST_XDIST_WORKER": "gw1"}, 5),
        ({"PYTEST_XDIST_WORKER": "gw1", "GP_REDIS_PER_WORKER": "1"}, 4),  # a worker's child
        ({"PYTEST_XDIST_WORKER": "gw1", "GP_TESTING": "0"}, 4),  # never outside the tests
    ],
)
def test_each_test_worker_has_a_redis_database_of_its_own(extra, db):
    result = _start_django(
        {"GP_TESTING": "1", "DJANGO_DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/4", **extra},
        then="import os; from django.conf import settings; "
        "print(settings.REDIS_URL, settings.CACHES['default']['LOCATION'], "
        "settings.CELERY_BROKER_URL, os.environ['REDIS_URL'])",
    )

    assert result.returncode == 0, result.stderr
    # The processes the worker starts inherit the result in the environment.
    assert result.stdout.split() == [f"redis://127.0.0.1:6379/{db}"] * 4


def test_a_test_worker_refuses_a_redis_url_without_a_database_number():
    result = _start_django(
        {
            "GP_TESTING": "1",
            "DJANGO_DEBUG": "1",
            "REDIS_URL": "unix:///run/redis.sock",
            "PYTEST_XDIST_WORKER": "gw1",
        }
    )

    assert result.returncode != 0
    assert "redis://host:port/<database>" in result.stderr


def test_production_refuses_default_secret_and_wildcard_hosts():
    result = _start_django(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "local-only-insecure-secret-key-change-me",
            "DJANGO_ALLOWED_HOSTS": "*",
            "FIELD_ENCRYPTION_KEYS": "bG9jYWwtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
            "TOKEN_ENCRYPTION_KEYS": "k1:bG9jYWwtb25seS10b2tlbi1lbmNyeXB0aW9uLWtleS0=",
        }
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _start_django({"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_is_off_unless_asked_for():
    production = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "TOKEN_SIGNING_KEY": "t" * 50,
        "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP",
        "DJANGO_ALLOWED_HOSTS": "panel.example.com",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
        "TOKEN_ENCRYPTION_KEYS": "k1:cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
        "DATABASE_URL": "postgres://panel@db.example:5432/panel",
        "PUBLIC_BASE_URL": "https://panel.example.com",
    }

    def debug_with(env: dict) -> str:
        result = _start_django(env, then="from django.conf import settings; print(settings.DEBUG)")
        return result.stdout.strip() or result.stderr

    assert debug_with(production) == "False"
    assert debug_with({"DJANGO_DEBUG": "1"}) == "True"
    assert "DJANGO_SECRET_KEY" in debug_with({})  # no DEBUG, no secret: it refuses to start


@pytest.mark.parametrize("hosts", [None, ""])
def test_production_refuses_to_start_without_its_host_names(hosts):
    """The local default (127.0.0.1, localhost) would answer every request to the panel's real
    name with a 400, and an empty list every request: a deployment that forgot the variable is
    told at start."""
    production = {
        "DJANGO_DEBUG": "0",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "TOKEN_SIGNING_KEY": "t" * 50,
        "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
        "TOKEN_ENCRYPTION_KEYS": "k1:cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
        "DATABASE_URL": "postgres://panel@db.example:5432/panel",
        "PUBLIC_BASE_URL": "https://panel.example.com",
    }
    if hosts is not None:
        production["DJANGO_ALLOWED_HOSTS"] = hosts
    result = _start_django(production)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is required" in result.stderr


def test_production_refuses_to_start_without_a_shared_cache():
    result = _start_django(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "x" * 50,
            "TOKEN_SIGNING_KEY": "t" * 50,
            "DJANGO_ALLOWED_HOSTS": "panel.example.com",
            "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
            "TOKEN_ENCRYPTION_KEYS": "k1:cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
            "DATABASE_URL": "postgres://panel@db.example:5432/panel",
            "PUBLIC_BASE_URL": "https://panel.example.com",
        }
    )
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


@pytest.mark.parametrize(
    ("proxy_header", "address_header", "starts"),
    [
        (None, None, False),  # the default trusts a proxy's X-Forwarded-Proto
        ("X-Forwarded-Proto", "", False),
        ("X-Forwarded-Proto", "HTTP_X_REAL_IP", True),
        ("", None, True),  # no proxy: REMOTE_ADDR is the client
    ],
)
def test_behind_a_proxy_production_needs_the_client_address_header(
    proxy_header, address_header, starts
):
    production = {
        "DJANGO_DEBUG": "0",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "TOKEN_SIGNING_KEY": "t" * 50,
        "DJANGO_ALLOWED_HOSTS": "panel.example.com",
        "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
        "TOKEN_ENCRYPTION_KEYS": "k1:cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
        "DATABASE_URL": "postgres://panel@db.example:5432/panel",
        "PUBLIC_BASE_URL": "https://panel.example.com",
    }
    if proxy_header is not None:
        production["DJANGO_SECURE_PROXY_SSL_HEADER"] = proxy_header
    if address_header is not None:
        production["RATELIMIT_IP_META_KEY"] = address_header

    result = _start_django(production)

    assert (result.returncode == 0) == starts, result.stderr
    if not starts:
        assert "RATELIMIT_IP_META_KEY must name" in result.stderr


def test_production_starts_with_real_values():
    result = _start_django(
        {
            "DJANGO_DEBUG": "0",
            "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DJANGO_SECRET_KEY": "x" * 50,
            "TOKEN_SIGNING_KEY": "t" * 50,
            "DJANGO_ALLOWED_HOSTS": "panel.example.com",
            "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
            "TOKEN_ENCRYPTION_KEYS": "k1:cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
            "DATABASE_URL": "postgres://panel@db.example:5432/panel",
            "PUBLIC_BASE_URL": "https://panel.example.com",
        }
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_deploy_check_flags_live_demo_keys(settings):
    from apps.accounts.checks import demo_keys_absent

    call_command("seed_demo", quiet=True)
    settings.DEBUG = False

    errors = demo_keys_absent(None)

    assert [e.id for e in errors] == ["gamingpanel.E001"]


@pytest.mark.parametrize(
    "setting",
    ["ANALYTICS_MAX_EVENT_NAMES", "MULTIPLAYER_MAX_LIVE_SERVERS", "PANEL_SESSION_HOURS"],
)
def test_a_limit_below_one_stops_start_up(setting):
    """A negative cap would slice a queryset backwards (a 500 on every new name), and none of
    these means anything at 0."""
    result = _start_django({"DJANGO_DEBUG": "1", setting: "-1"})

    assert result.returncode != 0
    assert f"{setting}" in result.stderr and "at least 1" in result.stderr
