"""Monitoring fixtures: the dev-platform login of tests/accounts, a scrape, and the JSON lines
the console handler would print."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from gamingpanel.logging import JsonFormatter, RequestIdFilter, ScrubSecretsFilter
from tests.accounts.conftest import dev_platform, login  # noqa: F401  (fixtures)

SCRAPE_TOKEN = "scrape-token-for-tests-0123456789"


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (0 when never counted)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def scrape(settings) -> Callable[[], str]:  # noqa: ANN001
    settings.METRICS_TOKEN = SCRAPE_TOKEN

    def get() -> str:
        response = APIClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
        assert response.status_code == 200, response.content
        return response.content.decode()

    return get


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict]]]:
    """Every log line written meanwhile, as the console handler formats it (settings.LOGGING)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ScrubSecretsFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
