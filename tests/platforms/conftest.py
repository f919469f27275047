"""Every verifier test runs against fake hosts, a private cache, and no real network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import responses

from tests.platforms.helpers import FAKE_HOSTS


@pytest.fixture
def upstream(settings) -> Iterator[responses.RequestsMock]:
    """The platforms as `responses` fakes; any unregistered request fails as a connection error."""
    for name, value in FAKE_HOSTS.items():
        setattr(settings, name, value)
    settings.PLATFORM_HTTP_TIMEOUT = (2.0, 5.0)
    settings.PLATFORM_DEV_ENABLED = True
    settings.PLATFORM_JWKS_MIN_REFETCH_SECONDS = 60
    # A fresh in-memory cache per test: key sets and replay marks never leak between tests,
    # and a shared Redis is never flushed.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"platforms-{uuid.uuid4()}",
        }
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
