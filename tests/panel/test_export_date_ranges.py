"""A dashboard CSV export asked for a range it cannot read (reversed, a day out of the calendar,
garbage, longer than the dashboard allows) is refused with a 400, nothing exported: it used to be
written for the last 30 days, a file of other days than the analyst asked for. A range not given
keeps its default (the last ANALYTICS_DASHBOARD_DEFAULT_DAYS days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

TABLES = ["daily", "retention", "revenue", "economy", "offers", "client-events"]


def export(client, game, table: str, query: str = ""):
    return client.get(f"/panel/games/{game.pk}/export/{table}.csv{query}")


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("?start=2025-03-10&end=2025-03-01", "From must not be after To."),  # reversed
        ("?start=2025-02-30&end=2025-03-01", "From: Enter a valid date."),  # not in the calendar
        ("?start=2025-03-01&end=2025-13-01", "To: Enter a valid date."),
        ("?start=yesterday&end=2025-03-01", "From: Enter a valid date."),  # garbage
        ("?end=%00", "To: Enter a valid date."),
        ("?start=2023-01-01&end=2025-01-01", "At most 366 days at once."),  # too long
    ],
)
def test_a_range_that_cannot_be_read_is_refused_nothing_exported(
    analyst_client, game, table, query, reason
):
    response = export(analyst_client, game, table, query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Content-Disposition" not in response
    body = response.content.decode()
    assert body.startswith("Nothing exported: the date range cannot be read.")
    assert reason in body


@pytest.mark.parametrize("query", ["", "?", "?start=&end=", "?other=1"])
def test_a_range_not_given_is_the_last_default_days(analyst_client, game, settings, query):
    settings.ANALYTICS_DASHBOARD_DEFAULT_DAYS = 30
    today = timezone.now().date()
    start = today - timedelta(days=29)

    response = export(analyst_client, game, "daily", query)

    assert response.status_code == 200
    assert f'filename="alpha-daily-{start}-{today}.csv"' in response["Content-Disposition"]
    days = [line.split(",")[0] for line in response.content.decode().splitlines()[1:]]
    assert days == [str(start + timedelta(days=n)) for n in range(30)]


def test_a_readable_range_is_exported_as_asked(analyst_client, game):
    response = export(analyst_client, game, "daily", "?start=2025-02-27&end=2025-03-01")

    assert response.status_code == 200
    assert 'filename="alpha-daily-2025-02-27-2025-03-01.csv"' in response["Content-Disposition"]
    days = [line.split(",")[0] for line in response.content.decode().splitlines()[1:]]
    assert days == ["2025-02-27", "2025-02-28", "2025-03-01"]


def test_only_the_start_given_ends_today(analyst_client, game):
    today = timezone.now().date()
    start = today - timedelta(days=2)

    response = export(analyst_client, game, "daily", f"?start={start}")

    assert response.status_code == 200
    assert f'filename="alpha-daily-{start}-{today}.csv"' in response["Content-Disposition"]
