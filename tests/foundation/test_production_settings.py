"""With DEBUG off the panel refuses to start on what a fresh clone holds: .env.example's example
secrets, no database (the demo's SQLite), no public URL; and a malformed Fernet key stops
`manage.py` (runserver, migrate, check) instead of the first save of a platform secret."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from gamingpanel.settings import is_example_secret
from tests.conftest import ROOT

# The secrets .env.example shows, set or commented out.
SECRETS = (
    "DJANGO_SECRET_KEY",
    "TOKEN_SIGNING_KEY",
    "TOKEN_SIGNING_KEY_FALLBACKS",
    "FIELD_ENCRYPTION_KEYS",
    "TOKEN_ENCRYPTION_KEYS",
    "SANDBOX_PAYMENT_SECRET",
    "METRICS_TOKEN",
)
REAL = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "s" * 50,
    "TOKEN_SIGNING_KEY": "t" * 50,
    "DJANGO_ALLOWED_HOSTS": "panel.example.com",
    "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://panel@db.example:5432/panel",
    "PUBLIC_BASE_URL": "https://panel.example.com",
    "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
    "TOKEN_ENCRYPTION_KEYS": "k1:cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy0xMjM=",
}


def example_secrets() -> dict[str, str]:
    """Each secret .env.example gives a value, from its `NAME=value` or `# NAME=value` line."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#?\s*([A-Z_][A-Z0-9_]*)=(\S*)", line.strip())
        if match and match.group(1) in SECRETS:
            found[match.group(1)] = match.group(2)
    return found


def _start_django(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    command = list(argv) or ["-c", "import django; django.setup()"]
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "gamingpanel.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_example_secret_in_env_example_is_one_the_settings_refuse():
    """The check reads no list of .env.example's values: each says it is an example (change-me,
    REPLACE), so a new or reworded one stays refused only while it does; this holds it so."""
    shown = example_secrets()
    # A value in parentheses names a default; an empty one is unset.
    examples = {name: v for name, v in shown.items() if v and not v.startswith("(")}
    assert {"DJANGO_SECRET_KEY", "TOKEN_SIGNING_KEY", "FIELD_ENCRYPTION_KEYS"} <= examples.keys()
    assert [name for name, value in examples.items() if not is_example_secret(value)] == []


def test_real_secrets_are_not_taken_for_examples():
    real = [Fernet.generate_key().decode(), "k1:" + Fernet.generate_key().decode(), "x" * 50]
    assert not any(map(is_example_secret, real))
    assert is_example_secret("Change-Me-please") and is_example_secret("k1:replace-this")


def test_production_starts_with_real_values():
    result = _start_django(REAL)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", SECRETS)
def test_production_refuses_each_example_secret(name):
    value = example_secrets().get(name) or "change-me-to-50-random-characters-change-me-change-me"
    if not is_example_secret(value):  # SANDBOX_PAYMENT_SECRET=(DJANGO_SECRET_KEY) and the like
        value = f"REPLACE-with-a-real-{name.lower()}"

    result = _start_django({**REAL, name: value})

    assert result.returncode != 0
    assert "Unsafe production settings" in result.stderr, result.stderr
    assert re.search(rf"\b{name}\b[^;]*example values are not secrets", result.stderr)


@pytest.mark.parametrize(
    "database_url", [None, "sqlite:////var/lib/panel/db.sqlite3", "sqlite:///db.sqlite3"]
)
def test_production_refuses_to_start_without_its_postgresql_database(database_url):
    """The SQLite default answered health checks while a deployment that forgot DATABASE_URL
    kept its data in a file inside the container."""
    env = {key: value for key, value in REAL.items() if key != "DATABASE_URL"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url

    result = _start_django(env)

    assert result.returncode != 0
    assert "DATABASE_URL is required" in result.stderr, result.stderr


@pytest.mark.parametrize("public_base_url", [None, ""])
def test_production_refuses_to_start_without_its_public_url(public_base_url):
    """The default, http://127.0.0.1:8000, would be every buyer's checkout link."""
    env = {key: value for key, value in REAL.items() if key != "PUBLIC_BASE_URL"}
    if public_base_url is not None:
        env["PUBLIC_BASE_URL"] = public_base_url

    result = _start_django(env)

    assert result.returncode != 0
    assert "PUBLIC_BASE_URL is required" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("signing_key", "refusal"),
    [
        (None, "TOKEN_SIGNING_KEY is required"),  # it would default to DJANGO_SECRET_KEY
        (REAL["DJANGO_SECRET_KEY"], "TOKEN_SIGNING_KEY is required"),
        ("t" * 31, "TOKEN_SIGNING_KEY is shorter than 32 characters"),
    ],
)
def test_production_refuses_to_start_without_a_token_signing_key_of_its_own(signing_key, refusal):
    """Players' tokens signed with DJANGO_SECRET_KEY: rotating the operators' key would log every
    player out, and rotating the token key would need a new secret key."""
    env = {key: value for key, value in REAL.items() if key != "TOKEN_SIGNING_KEY"}
    if signing_key is not None:
        env["TOKEN_SIGNING_KEY"] = signing_key

    result = _start_django(env)

    assert result.returncode != 0
    assert refusal in result.stderr, result.stderr


def test_check_deploy_names_the_missing_token_signing_key():
    """Compose's migrate step (`check --deploy`) stops web, worker and beat from starting."""
    env = {key: value for key, value in REAL.items() if key != "TOKEN_SIGNING_KEY"}

    result = _start_django(env, "manage.py", "check", "--deploy", "--fail-level", "ERROR")

    assert result.returncode != 0
    assert "TOKEN_SIGNING_KEY is required" in result.stderr, result.stderr


def test_the_demo_still_needs_no_setup():
    """DEBUG on (make run): SQLite, the local keys and URL, no variable to set."""
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.PUBLIC_BASE_URL)"
    )
    result = _start_django({"DJANGO_DEBUG": "1"}, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "http://127.0.0.1:8000"]


@pytest.mark.parametrize(
    "keys",
    [
        "REPLACE-with-a-Fernet-key",
        "not-a-fernet-key",
        REAL["FIELD_ENCRYPTION_KEYS"] + ",c2hvcnQ=",  # a good key, then a 5-byte one
    ],
)
def test_a_malformed_field_key_fails_the_system_checks(settings, keys):
    from apps.accounts.checks import field_keys_usable

    settings.FIELD_ENCRYPTION_KEYS = keys.split(",")

    assert [error.id for error in field_keys_usable(None)] == ["gamingpanel.E003"]


def test_usable_field_keys_pass_the_system_checks(settings):
    from apps.accounts.checks import field_keys_usable

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode() for _ in range(2)]

    assert field_keys_usable(None) == []


def test_a_malformed_field_key_stops_manage_py_before_anything_runs():
    """As TOKEN_ENCRYPTION_KEYS does (gamingpanel.E002): runserver and migrate run the checks
    first, and compose's migrate step runs `check --deploy` before web, worker and beat."""
    result = _start_django(
        {"DJANGO_DEBUG": "1", "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}, "manage.py", "check"
    )

    assert result.returncode != 0
    assert "gamingpanel.E003" in result.stderr and "FIELD_ENCRYPTION_KEYS" in result.stderr
