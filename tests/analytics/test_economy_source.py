"""Analytics never reads the ledger: the app that owns it registers where sources and sinks come
from, and without one the aggregation refuses to run rather than show an empty economy."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from apps.analytics import aggregation
from apps.analytics.models import DailyMetrics, EconomyDay
from apps.inventory.selectors import economy_flows


@pytest.fixture
def today() -> date:
    """The UTC day as the test starts, never as the module was collected."""
    return timezone.now().date()


def test_inventory_registers_its_selector_at_start_up():
    assert aggregation._economy_source() is economy_flows


def test_aggregation_without_a_source_fails_and_writes_nothing(game, monkeypatch, today):
    monkeypatch.setattr(aggregation, "_economy_sources", [])

    with pytest.raises(aggregation.NoEconomySource):
        aggregation.aggregate_days(game_id=game.pk, start=today, end=today)

    assert not DailyMetrics.objects.exists()  # the day's transaction rolled back
    assert not EconomyDay.objects.exists()


def test_a_registered_source_is_what_the_aggregation_stores(game, monkeypatch, today):
    class Flow:
        day, currency, reason, source, sink, entries = today, "gold", "quest", 12, 5, 3

    asked = []

    def source(*, game_id, start, end):
        asked.append((game_id, start, end))
        return [Flow()]

    monkeypatch.setattr(aggregation, "_economy_sources", [])
    aggregation.register_economy_source(source)

    aggregation.aggregate_days(game_id=game.pk, start=today, end=today)

    assert asked == [(game.pk, today, today)]
    assert list(
        EconomyDay.objects.values_list("currency", "reason", "source", "sink", "entries")
    ) == [("gold", "quest", 12, 5, 3)]
