"""SERVER_HEARTBEAT_TTL_SECONDS is refused at start when no server could ever be listed (0 or
less), or when the hourly prune would delete servers still listed (a TTL at or beyond
MULTIPLAYER_SERVER_RETENTION_HOURS), with a message that names both settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _start_django(**settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
            "GP_TESTING": "1",
            "DJANGO_DEBUG": "1",
            **settings,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("ttl", "hours"), [("0", "24"), ("-30", "24"), ("86400", "24"), ("90000", "24"), ("3600", "1")]
)
def test_a_ttl_that_lists_no_server_or_outlives_the_retention_is_refused(ttl, hours):
    result = _start_django(
        SERVER_HEARTBEAT_TTL_SECONDS=ttl, MULTIPLAYER_SERVER_RETENTION_HOURS=hours
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SERVER_HEARTBEAT_TTL_SECONDS" in result.stderr
    assert "MULTIPLAYER_SERVER_RETENTION_HOURS" in result.stderr


@pytest.mark.parametrize(("ttl", "hours"), [("1", "24"), ("30", "24"), ("86399", "24")])
def test_a_ttl_below_the_retention_starts(ttl, hours):
    result = _start_django(
        SERVER_HEARTBEAT_TTL_SECONDS=ttl, MULTIPLAYER_SERVER_RETENTION_HOURS=hours
    )

    assert result.returncode == 0, result.stderr
