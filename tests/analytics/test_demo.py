from __future__ import annotations

import time

from apps.analytics import demo
from apps.analytics.models import (
    DailyMetrics,
    EventName,
    RawEvent,
    RetentionCell,
    RevenueDay,
)
from apps.inventory import demo as inventory_demo


def test_demo_is_fast_idempotent_and_fills_the_dashboard(game):
    inventory_demo.seed(game)
    began = time.perf_counter()
    demo.seed(game)
    demo.aggregate(game)
    seconds = time.perf_counter() - began
    events = RawEvent.objects.filter(game=game).count()
    daily = list(DailyMetrics.objects.filter(game=game).order_by("day").values_list("day", "dau"))

    demo.seed(game)
    demo.aggregate(game)

    assert seconds < 3
    assert events > 300
    assert RawEvent.objects.filter(game=game).count() == events
    assert (
        list(DailyMetrics.objects.filter(game=game).order_by("day").values_list("day", "dau"))
        == daily
    )
    assert len(daily) == demo.DAYS and all(dau > 0 for _, dau in daily)
    assert RetentionCell.objects.filter(game=game, day_offset=1).exists()
    assert RevenueDay.objects.filter(game=game, real_money=True).exists()
    client_names = RawEvent.objects.filter(game=game, source=RawEvent.Source.CLIENT)
    assert set(EventName.objects.filter(game=game).values_list("name", flat=True)) == set(
        client_names.values_list("name", flat=True)
    )
