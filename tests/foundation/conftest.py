from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.fixture
def executes() -> Iterator[list[str]]:
    """Each execute the connection sends (one per round trip), as its text."""
    sent: list[str] = []

    def record(execute, sql, params, many, context):  # noqa: ANN001 - Django's wrapper API
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent
