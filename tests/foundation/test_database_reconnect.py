"""Connections are not health-checked before each request (CONN_HEALTH_CHECKS off, one round
trip saved per request): a connection PostgreSQL dropped fails at most one request, then the
process reconnects."""

import pytest
from django.db import connection

from tests.accounts.conftest import start_web  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_dropped_connection_costs_at_most_one_request(start_web):  # noqa: F811
    # One thread, so one held connection: with several, each thread holds its own and the
    # thread that serves each request is up to granian (a 503 could come second).
    web = start_web(blocking_threads=1)
    assert web.request("GET", "/api/v1/health")[0] == 200  # the process now holds a connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (dropped,) = cursor.fetchone()
    statuses = [web.request("GET", "/api/v1/health")[0] for _ in range(3)]

    assert dropped >= 1
    assert statuses in ([503, 200, 200], [200, 200, 200])
    assert statuses[0] == 503  # the held connection was used, not checked first
