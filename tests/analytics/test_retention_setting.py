"""Raw client events must be kept longer than events are accepted late: an event accepted 7 days
late under a 5-day retention would be stored, pruned, and never counted."""

from __future__ import annotations

import pytest

from tests.foundation.probe import refusal


@pytest.mark.parametrize(
    ("days", "skew"), [("5", str(7 * 86400)), ("9", str(7 * 86400)), ("1", "60")]
)
def test_a_retention_shorter_than_the_late_events_accepted_is_refused(days, skew):
    refused = refusal(ANALYTICS_RAW_RETENTION_DAYS=days, ANALYTICS_MAX_CLOCK_SKEW_SECONDS=skew)

    assert refused is not None and "ImproperlyConfigured" in refused
    assert "ANALYTICS_RAW_RETENTION_DAYS" in refused
    assert "ANALYTICS_MAX_CLOCK_SKEW_SECONDS" in refused


@pytest.mark.parametrize(("days", "skew"), [("400", str(7 * 86400)), ("10", str(7 * 86400))])
def test_a_retention_past_them_starts(days, skew):
    assert refusal(ANALYTICS_RAW_RETENTION_DAYS=days, ANALYTICS_MAX_CLOCK_SKEW_SECONDS=skew) is None
