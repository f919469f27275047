"""The economy dashboards' sources and sinks: inventory sums its ledger (`economy_flows`) and
analytics' aggregation, which never reads the ledger, upserts what inventory registered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import Player
from apps.analytics import tasks
from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import EconomyDay
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry
from apps.inventory.selectors import EconomyFlow, economy_flows
from apps.inventory.services import Change, apply_changes


@pytest.fixture
def today() -> date:
    """The UTC day as the test starts, never as the module was collected: a run collected
    before midnight and run after it would otherwise expect the day before the ledger's."""
    return timezone.now().date()


@pytest.fixture
def yesterday(today: date) -> date:
    return today - timedelta(days=1)


def move(
    player: Player, change: Change, *, reason: str, key: str, at: datetime | None = None
) -> None:
    """One ledger entry through the ledger's own write; `at` places it on the clock."""
    apply_changes(player=player, changes=[change], reason=reason, idempotency_key=key)
    if at is not None:
        LedgerEntry.objects.filter(player=player, operation_key=key).update(created_at=at)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@pytest.fixture
def ledger(player: Player, other_player: Player, today: date) -> Player:
    """Yesterday and today in the player's game, with an item entry and another game's gold."""
    for game in (player.game, other_player.game):
        Currency.objects.create(game=game, code="gold", name="Gold")
    Currency.objects.create(game=player.game, code="gems", name="Gems")
    ItemDefinition.objects.create(game=player.game, sku="sword", name="Sword")
    last_moment = midnight(today) - timedelta(microseconds=1)
    move(player, Change("currency", "gold", 100), reason="grant", key="y1", at=last_moment)
    move(player, Change("currency", "gold", -40), reason="shop", key="y2", at=last_moment)
    move(player, Change("currency", "gold", 25), reason="grant", key="t1", at=midnight(today))
    move(player, Change("currency", "gold", 5), reason="grant", key="t2")
    move(player, Change("currency", "gold", -30), reason="shop", key="t3")
    move(player, Change("currency", "gems", 3), reason="grant", key="t4")
    move(player, Change("item", "sword", 1), reason="grant", key="t5")
    move(other_player, Change("currency", "gold", 999), reason="grant", key="o1")
    return player


@pytest.fixture
def expected(today: date, yesterday: date) -> dict[tuple, tuple[int, int, int]]:
    """What the ledger fixture sums to, per (day, currency, reason): (source, sink, entries)."""
    return {
        (yesterday, "gold", "grant"): (100, 0, 1),
        (yesterday, "gold", "shop"): (0, 40, 1),
        (today, "gold", "grant"): (30, 0, 2),
        (today, "gold", "shop"): (0, 30, 1),
        (today, "gems", "grant"): (3, 0, 1),
    }


def by_key(flows: list[EconomyFlow] | list[EconomyDay]) -> dict[tuple, tuple[int, int, int]]:
    return {(f.day, f.currency, f.reason): (f.source, f.sink, f.entries) for f in flows}


def stored(player: Player) -> dict[tuple, tuple[int, int, int]]:
    return by_key(list(EconomyDay.objects.filter(game_id=player.game_id)))


def test_flows_sum_each_utc_day_currency_and_reason_in_one_query(
    ledger, today, yesterday, expected, django_assert_num_queries
):
    with django_assert_num_queries(1):
        flows = economy_flows(game_id=ledger.game_id, start=yesterday, end=today)

    assert by_key(flows) == expected  # no item row, no other game's gold


def test_flows_stop_at_the_range(ledger, today, yesterday):
    flows = economy_flows(game_id=ledger.game_id, start=yesterday, end=yesterday)

    assert {f.day for f in flows} == {yesterday}
    assert economy_flows(game_id=ledger.game_id, start=today, end=yesterday) == []


def test_aggregation_stores_the_flows_and_a_rerun_changes_nothing(
    ledger, today, yesterday, expected
):
    aggregate_days(game_id=ledger.game_id, start=yesterday, end=today)
    first = stored(ledger)
    aggregate_days(game_id=ledger.game_id, start=yesterday, end=today, chunk_days=1)

    assert first == expected
    assert stored(ledger) == expected
    assert EconomyDay.objects.count() == len(expected)  # the other game was not aggregated


def test_a_new_entry_updates_its_day_on_the_next_run(ledger, today, yesterday, expected):
    aggregate_days(game_id=ledger.game_id, start=yesterday, end=today)
    move(ledger, Change("currency", "gold", -7), reason="shop", key="t6")

    aggregate_days(game_id=ledger.game_id, start=today, end=today)

    assert stored(ledger) == {**expected, (today, "gold", "shop"): (0, 37, 2)}


def test_the_beat_task_stores_the_flows_of_every_game(ledger, other_player, today, expected):
    tasks.aggregate_recent_days.delay()

    assert stored(ledger) == expected
    assert stored(other_player) == {(today, "gold", "grant"): (999, 0, 1)}


def test_the_rebuild_command_stores_the_flows(ledger, yesterday, expected):
    call_command(
        "aggregate_analytics",
        "--from",
        str(yesterday),
        "--game",
        ledger.game.slug,
        "--no-progress",
        stdout=StringIO(),
    )

    assert stored(ledger) == expected
    assert EconomyDay.objects.count() == len(expected)
