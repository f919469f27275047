"""SERVER_HEARTBEAT_TTL_SECONDS is refused at start when no server could ever be listed (0 or
less), or when the hourly prune would delete servers still listed (a TTL at or beyond
MULTIPLAYER_SERVER_RETENTION_HOURS), with a message that names both settings."""

from __future__ import annotations

import pytest

from tests.foundation.probe import refusal


@pytest.mark.parametrize(
    ("ttl", "hours"), [("0", "24"), ("-30", "24"), ("86400", "24"), ("90000", "24"), ("3600", "1")]
)
def test_a_ttl_that_lists_no_server_or_outlives_the_retention_is_refused(ttl, hours):
    refused = refusal(SERVER_HEARTBEAT_TTL_SECONDS=ttl, MULTIPLAYER_SERVER_RETENTION_HOURS=hours)

    assert refused is not None and "ImproperlyConfigured" in refused
    assert "SERVER_HEARTBEAT_TTL_SECONDS" in refused
    assert "MULTIPLAYER_SERVER_RETENTION_HOURS" in refused


@pytest.mark.parametrize(("ttl", "hours"), [("1", "24"), ("30", "24"), ("86399", "24")])
def test_a_ttl_below_the_retention_starts(ttl, hours):
    assert (
        refusal(SERVER_HEARTBEAT_TTL_SECONDS=ttl, MULTIPLAYER_SERVER_RETENTION_HOURS=hours) is None
    )
