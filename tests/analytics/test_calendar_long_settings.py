"""Settings that mean "keep everything" or "accept any age" (a retention of a million days, a
window of millennia) reach past the calendar: the date arithmetic holds them at its edge instead
of raising OverflowError in every aggregation, prune and ingestion call."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from apps.analytics import maintenance
from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import DailyMetrics, RawEvent
from apps.analytics.services import record_server_event

URL = "/api/v1/analytics/events"


def test_a_retention_longer_than_the_calendar_keeps_and_counts_every_day(player, settings):
    settings.ANALYTICS_RAW_RETENTION_DAYS = 1_000_000
    today = timezone.now().date()
    late = today - timedelta(days=5)
    record_server_event(
        game_id=player.game_id,
        player_id=player.pk,
        name="session_start",
        occurred_at=datetime.combine(late, time(9), tzinfo=UTC),
    )

    maintenance.aggregate_recent(today=today)  # the game's first run: records its day only
    maintenance.aggregate_recent(today=today)  # the late day, marked dirty, is aggregated
    pruned = maintenance.prune_raw_events(today=today)
    # A range at the calendar's start (its MAU and cohorts read the days before it).
    aggregate_days(game_id=player.game_id, start=date(1, 1, 2), end=date(1, 1, 3), today=today)

    assert DailyMetrics.objects.get(game=player.game, day=late).dau == 1
    assert pruned == 0
    assert RawEvent.objects.filter(day=late).exists()
    assert DailyMetrics.objects.filter(day__lte=date(1, 1, 3)).count() == 2


def test_an_age_window_longer_than_the_calendar_accepts_any_past_event(player_client, settings):
    settings.ANALYTICS_MAX_CLOCK_SKEW_SECONDS = 10**11  # about 3,200 years
    old = {"name": "level_up", "occurred_at": "2001-01-01T00:00:00Z"}
    ahead = {"name": "level_up", "occurred_at": (timezone.now() + timedelta(hours=1)).isoformat()}

    response = player_client.post(URL, {"events": [old, ahead]}, format="json")

    assert response.status_code == 207
    assert response.json()["accepted"] == 1
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
        (1, "event_out_of_range")
    ]
