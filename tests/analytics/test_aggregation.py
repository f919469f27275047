"""Aggregation on a hand-made data set: every expected number below is counted by hand.

Day B is 40 days ago. Players:
  p1: created B; sessions B (x2), B+1, B+7; a client event on B+30; buys o1 (4.99 USD) on B,
      refunded on B+1; plays matches m1 and m2 on B+7.
  p2: created B; session B and B+7; buys o1 (4.99 USD) and o2 (100 gold) on B; plays m1.
  p3: created B+1; sessions B+1 and B+2; buys o2 (9.99 EUR) on B+1.
  p4: created before analytics existed (no player_created); session B+1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.analytics.aggregation import aggregate_days
from apps.analytics.maintenance import aggregate_recent
from apps.analytics.models import (
    ClientEventDay,
    DailyMetrics,
    DirtyDay,
    EconomyDay,
    OfferDay,
    PlayerDay,
    RawEvent,
    RetentionCell,
    RevenueDay,
)
from apps.analytics.services import record_server_event
from apps.inventory.models import Currency
from apps.inventory.services import Change, apply_changes


@pytest.fixture
def today() -> date:
    """The UTC day as the test starts, never as the module was collected: a run collected
    before midnight and run after it would otherwise put the data on the day before the code's
    own today."""
    return timezone.now().date()


@pytest.fixture
def b(today: date) -> date:
    """Day B of the data set: 40 days before the test's today."""
    return today - timedelta(days=40)


@pytest.fixture
def at(b: date) -> Callable[..., datetime]:
    """`at(offset, hour=12)`: that hour, UTC, of day B + offset."""

    def moment(offset: int, hour: int = 12) -> datetime:
        return datetime.combine(b + timedelta(days=offset), time(hour), tzinfo=UTC)

    return moment


@pytest.fixture
def day(b: date) -> Callable[[int], date]:
    """`day(offset)`: day B + offset."""

    def of(offset: int) -> date:
        return b + timedelta(days=offset)

    return of


@pytest.fixture
def fact(at: Callable[..., datetime]) -> Callable[..., None]:
    """`fact(player, name, offset, **properties)`: a server fact at noon of day B + offset."""

    def record(player: Player, name: str, offset: int, **properties: object) -> None:
        record_server_event(
            game_id=player.game_id,
            player_id=player.pk,
            name=name,
            properties=properties,
            occurred_at=at(offset),
        )

    return record


@pytest.fixture
def client_event(
    at: Callable[..., datetime], day: Callable[[int], date]
) -> Callable[[Player, str, int], None]:
    """`client_event(player, name, offset)`: a client event at noon of day B + offset."""

    def record(player: Player, name: str, offset: int) -> None:
        RawEvent.objects.create(
            game_id=player.game_id,
            player=player,
            source=RawEvent.Source.CLIENT,
            name=name,
            occurred_at=at(offset),
            day=day(offset),
        )

    return record


USD_499 = {"currency": "USD", "amount": 499, "real_money": True}


@pytest.fixture
def players(
    game: Game, fact: Callable[..., None], client_event: Callable[[Player, str, int], None]
) -> dict[str, Player]:
    p1, p2, p3, p4 = (Player.objects.create(game=game, display_name=f"p{n}") for n in range(1, 5))
    fact(p1, "player_created", 0)
    fact(p1, "session_start", 0)
    fact(p1, "session_start", 0)
    fact(p1, "session_start", 1)
    fact(p1, "session_start", 7)
    client_event(p1, "level_up", 30)
    fact(p1, "purchase_completed", 0, offer_id="o1", purchase_id=1, **USD_499)
    fact(p1, "purchase_refunded", 1, offer_id="o1", purchase_id=1, **USD_499)
    fact(p1, "match_played", 7, match_id="m1", outcome="win")
    fact(p1, "match_played", 7, match_id="m2", outcome="loss")
    fact(p2, "player_created", 0)
    fact(p2, "session_start", 0)
    fact(p2, "session_start", 7)
    fact(p2, "purchase_completed", 0, offer_id="o1", purchase_id=2, **USD_499)
    fact(p2, "purchase_completed", 0, offer_id="o2", currency="gold", amount=100, real_money=False)
    fact(p2, "match_played", 7, match_id="m1", outcome="loss")
    fact(p3, "player_created", 1)
    fact(p3, "session_start", 1)
    fact(p3, "session_start", 2)
    fact(p3, "purchase_completed", 1, offer_id="o2", currency="EUR", amount=999, real_money=True)
    fact(p4, "session_start", 1)
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4}


@pytest.fixture
def metrics(b: date) -> Callable[[Game], dict[int, DailyMetrics]]:
    """`metrics(game)`: the game's daily metrics by their day's offset from day B."""

    def read(game: Game) -> dict[int, DailyMetrics]:
        return {(m.day - b).days: m for m in DailyMetrics.objects.filter(game=game)}

    return read


@pytest.fixture
def retention(b: date) -> Callable[[Game], dict[tuple[int, int], int]]:
    """`retention(game)`: retained players by (cohort day's offset from day B, day offset)."""

    def read(game: Game) -> dict[tuple[int, int], int]:
        return {
            ((c.cohort_day - b).days, c.day_offset): c.retained
            for c in RetentionCell.objects.filter(game=game)
        }

    return read


def snapshot(game: Game) -> list:
    models = [
        DailyMetrics, PlayerDay, RetentionCell, RevenueDay, OfferDay, EconomyDay, ClientEventDay,
    ]  # fmt: skip
    return [
        sorted(model.objects.filter(game_id=game.pk).values_list(*_fields(model)))
        for model in models
    ]


def _fields(model: type) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in {"id", "pk", "updated_at"}
    ]


def test_dau_sessions_and_new_players_per_day(game, players, day, metrics):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    m = metrics(game)
    assert [m[d].dau for d in (0, 1, 2, 3, 7, 30)] == [2, 3, 1, 0, 2, 1]
    assert [m[d].sessions for d in (0, 1, 2, 7, 30)] == [3, 3, 1, 2, 0]
    assert [m[d].new_players for d in (0, 1, 2)] == [2, 1, 0]
    assert m[0].events == 4 + 4  # p1: created, 2 sessions, purchase; p2: created, session, 2 buys
    assert len(m) == 41  # one row per day, zero when nothing happened


def test_mau_counts_distinct_players_in_the_30_days_to_each_day(game, players, day, metrics):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    m = metrics(game)
    expected = {0: 2, 1: 4, 7: 4, 29: 4, 30: 4, 31: 3, 32: 2, 36: 2, 37: 1, 40: 1}
    assert {d: m[d].mau for d in expected} == expected


def test_retention_cohorts_by_creation_day(game, players, day, retention):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    cells = retention(game)
    assert {k: cells[(0, k)] for k in (0, 1, 3, 7, 14, 30)} == {
        0: 2,
        1: 1,
        3: 0,
        7: 2,
        14: 0,
        30: 1,
    }
    assert {k: cells[(1, k)] for k in (0, 1, 3, 7, 14, 30)} == {
        0: 1,
        1: 1,
        3: 0,
        7: 0,
        14: 0,
        30: 0,
    }
    assert not any(cohort > 1 for cohort, _ in cells)  # p4 was not created in the range


def test_revenue_paying_users_and_refunds_per_currency(game, players, b, day, metrics):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    rows = {
        ((r.day - b).days, r.currency, r.real_money): (
            r.purchases,
            r.gross,
            r.refunds,
            r.refunded,
            r.paying_users,
        )
        for r in RevenueDay.objects.filter(game=game)
    }
    assert rows == {
        (0, "USD", True): (2, 998, 0, 0, 2),
        (0, "gold", False): (1, 100, 0, 0, 1),
        (1, "EUR", True): (1, 999, 0, 0, 1),
        (1, "USD", True): (0, 0, 1, 499, 0),
    }
    m = metrics(game)
    assert (m[0].purchases, m[0].paying_users, m[0].refunds) == (3, 2, 0)
    assert (m[1].purchases, m[1].paying_users, m[1].refunds) == (1, 1, 1)


def test_a_refund_does_not_make_a_player_active(game, day, fact, metrics, retention):
    churned = Player.objects.create(game=game, display_name="gone")
    fact(churned, "player_created", 0)
    fact(churned, "purchase_completed", 0, offer_id="o1", purchase_id=1, **USD_499)
    fact(churned, "purchase_refunded", 7, offer_id="o1", purchase_id=1, **USD_499)  # a webhook

    aggregate_days(game_id=game.pk, start=day(0), end=day(10))

    assert not PlayerDay.objects.filter(player_id=churned.pk, day=day(7)).exists()
    assert (metrics(game)[7].dau, metrics(game)[7].refunds) == (0, 1)
    assert retention(game)[(0, 7)] == 0


def test_matches_count_distinct_match_ids(game, players, day, metrics):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    m = metrics(game)
    assert (m[7].matches, m[7].match_players) == (2, 3)
    assert sum(row.matches for row in m.values()) == 2


def test_top_offers_per_day_and_currency(game, players, b, day):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    rows = {
        ((o.day - b).days, o.offer_id, o.currency): (o.purchases, o.amount)
        for o in OfferDay.objects.filter(game=game)
    }
    assert rows == {
        (0, "o1", "USD"): (2, 998),
        (0, "o2", "gold"): (1, 100),
        (1, "o2", "EUR"): (1, 999),
    }


def test_sources_and_sinks_come_from_the_ledger(game, player, today):
    Currency.objects.create(game=game, code="gold", name="Gold")
    apply_changes(
        player=player,
        changes=[Change("currency", "gold", 100)],
        reason="grant",
        idempotency_key="a",
    )
    apply_changes(
        player=player, changes=[Change("currency", "gold", 25)], reason="grant", idempotency_key="b"
    )
    apply_changes(
        player=player, changes=[Change("currency", "gold", -30)], reason="shop", idempotency_key="c"
    )

    aggregate_days(game_id=game.pk, start=today, end=today)

    rows = {
        (e.currency, e.reason): (e.source, e.sink, e.entries)
        for e in EconomyDay.objects.filter(game=game, day=today)
    }
    assert rows == {("gold", "grant"): (125, 0, 2), ("gold", "shop"): (0, 30, 1)}


def test_the_games_own_events_per_day_and_name(game, players, b, day, client_event):
    p1, p2 = players["p1"], players["p2"]
    client_event(p1, "level_up", 30)  # a second one by the same player that day
    client_event(p2, "level_up", 30)
    client_event(p2, "tutorial_step", 31)

    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    rows = {
        ((row.day - b).days, row.name): (row.events, row.players)
        for row in ClientEventDay.objects.filter(game=game)
    }
    # Only what clients send: the panel's own facts (sessions, purchases, matches) are not here.
    assert rows == {(30, "level_up"): (3, 2), (31, "tutorial_step"): (1, 1)}


def test_rerunning_a_range_gives_the_same_numbers(game, players, day):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))
    first = snapshot(game)

    aggregate_days(game_id=game.pk, start=day(0), end=day(40))
    aggregate_days(game_id=game.pk, start=day(1), end=day(2), chunk_days=1)

    assert snapshot(game) == first


def test_rerunning_a_range_deletes_the_rows_whose_sources_are_gone(game, players, day):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))
    first = snapshot(game)
    # Written before a rule change (a refund used to make a player active), or from sources
    # that are gone since.
    PlayerDay.objects.create(game_id=game.pk, player_id=players["p4"].pk, day=day(3), events=1)
    RevenueDay.objects.create(game=game, day=day(3), currency="USD", real_money=True, gross=9)
    OfferDay.objects.create(game=game, day=day(3), offer_id="o9", currency="USD", purchases=1)
    ClientEventDay.objects.create(game=game, day=day(3), name="gone", events=1, players=1)
    EconomyDay.objects.create(game=game, day=day(3), currency="gold", reason="grant", source=5)
    RetentionCell.objects.create(game=game, cohort_day=day(3), day_offset=0, retained=1)

    aggregate_days(game_id=game.pk, start=day(2), end=day(4))

    assert snapshot(game) == first


def test_mau_falls_to_zero_when_the_last_player_day_is_gone(game, player, day, metrics):
    PlayerDay.objects.create(game_id=game.pk, player_id=player.pk, day=day(3), events=1)
    DailyMetrics.objects.create(game=game, day=day(3), dau=1, mau=1)  # counted it once

    aggregate_days(game_id=game.pk, start=day(0), end=day(10))

    assert not PlayerDay.objects.exists()
    assert {m.mau for m in metrics(game).values()} == {0}


def test_a_deleted_players_days_still_count_after_a_rerun(game, players, day, fact, metrics):
    gone = Player.objects.create(game=game, display_name="gone")
    fact(gone, "session_start", 3)
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))
    gone_id = gone.pk
    gone.delete()  # its events stay, without a player

    aggregate_days(game_id=game.pk, start=day(0), end=day(40))

    assert PlayerDay.objects.filter(player_id=gone_id, day=day(3)).exists()
    assert metrics(game)[3].dau == 1


def test_player_days_are_indexed_by_game_and_day(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, PlayerDay._meta.db_table)
    indexes = [c["columns"] for c in constraints.values() if c["index"] and not c["primary_key"]]
    assert ["game_id", "day"] in indexes


def test_a_late_event_reaggregates_its_day_and_the_cohorts_it_touches(
    game, players, day, fact, metrics, retention
):
    aggregate_days(game_id=game.pk, start=day(0), end=day(40))
    before = metrics(game)

    fact(players["p2"], "session_start", 1)  # arrives 39 days late
    assert DirtyDay.objects.filter(game=game, day=day(1)).exists()
    aggregate_recent()

    after = metrics(game)
    assert (after[1].dau, after[1].sessions) == (4, 4)
    assert retention(game)[(0, 1)] == 2
    assert {d: after[d].dau for d in after if d != 1} == {
        d: before[d].dau for d in before if d != 1
    }
    assert not DirtyDay.objects.filter(game=game).exists()


def test_an_event_for_yesterday_stored_after_the_days_last_run_is_counted_the_next_day(game, today):
    player = Player.objects.create(game=game, display_name="late")
    aggregate_recent(today=today)  # the last run of today
    record_server_event(
        game_id=game.pk,
        player_id=player.pk,
        name="session_start",
        occurred_at=datetime.combine(today - timedelta(days=1), time(23, 50), tzinfo=UTC),
    )
    assert not DirtyDay.objects.exists()  # yesterday is recent: not marked

    aggregate_recent(today=today + timedelta(days=1))

    assert DailyMetrics.objects.get(game=game, day=today - timedelta(days=1)).dau == 1


def test_aggregation_stays_inside_its_game(
    game, other_game, players, other_player, at, day, metrics
):
    record_server_event(
        game_id=other_game.pk, player_id=other_player.pk, name="session_start", occurred_at=at(0)
    )
    aggregate_days(game_id=game.pk, start=day(0), end=day(0))
    aggregate_days(game_id=other_game.pk, start=day(0), end=day(0))

    assert metrics(game)[0].dau == 2
    assert DailyMetrics.objects.get(game=other_game, day=day(0)).dau == 1
    assert not RevenueDay.objects.filter(game=other_game).exists()


def test_bad_purchase_properties_do_not_break_aggregation(game, player, day, fact, metrics):
    fact(player, "purchase_completed", 0, currency="USD", amount="lots", real_money="yes")
    fact(player, "purchase_completed", 0, amount=5)  # no currency: counted, not in revenue

    aggregate_days(game_id=game.pk, start=day(0), end=day(0))

    assert metrics(game)[0].purchases == 2
    row = RevenueDay.objects.get(game=game)
    assert (row.currency, row.real_money, row.gross) == ("USD", False, 0)


def test_days_after_today_are_not_aggregated(game, player, today):
    aggregate_days(game_id=game.pk, start=today, end=today + timedelta(days=3))

    assert list(DailyMetrics.objects.filter(game=game).values_list("day", flat=True)) == [today]


def test_bulk_server_facts_count_like_single_ones(game, player, other_player, at, day, metrics):
    from apps.analytics.services import ServerFact, record_server_events

    late = at(0)
    stored = record_server_events(
        game_id=game.pk,
        facts=[
            ServerFact(player.pk, "match_played", {"match_id": "m9"}, late),
            ServerFact(None, "match_played", {"match_id": "m9"}, late),
        ],
    )
    aggregate_days(game_id=game.pk, start=day(0), end=day(0))

    assert stored == 2
    assert (metrics(game)[0].matches, metrics(game)[0].match_players) == (1, 2)
    assert DirtyDay.objects.filter(game=game, day=day(0)).exists()
    with pytest.raises(ValueError):
        record_server_events(game_id=game.pk, facts=[ServerFact(player.pk, "level_up")])
