"""Every verifier test runs against fake hosts, a private cache, and no real network."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import jwt
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


class Clock:
    """A wall clock a test sets and moves; `time.time()` answers it while the fixture lives."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """One clock for our code, the locmem cache's expiry (both read `time.time()`) and PyJWT's
    exp/iat checks (`datetime.now()` in jwt.api_jwt), so a test can stand at any instant of a
    token's life, to the fraction of a second."""
    fake = Clock(time.time())

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return datetime.fromtimestamp(fake.now, tz)

    monkeypatch.setattr(time, "time", fake)
    monkeypatch.setattr(jwt.api_jwt, "datetime", ClockDatetime)
    return fake
