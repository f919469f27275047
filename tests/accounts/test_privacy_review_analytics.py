"""Erasure and analytics: the client's free-form values go, the panel's own records and every
figure rebuilt from them stay; a batch racing the erasure leaves nothing personal behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.errors import AccountDeleted
from apps.accounts.models import Game, Player
from apps.accounts.privacy import privacy_sections
from apps.accounts.services.privacy import erase_player
from apps.analytics import services as analytics_services
from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import (
    ClientEventDay,
    DailyMetrics,
    PlayerDay,
    RawEvent,
    RetentionCell,
    RevenueDay,
)
from apps.analytics.services import record_server_event
from tests.accounts import erasure_races
from tests.accounts.erasure_races import race_with_erasure
from tests.shop.conftest import access_token, bearer

EVENTS = "/api/v1/analytics/events"
D = timezone.now().date() - timedelta(days=10)
USD = {"offer_id": "o1", "purchase_id": 1, "currency": "USD", "amount": 499, "real_money": True}
PERSONAL = {"email": "alice@example.com", "device": "alice's phone"}


def at(offset: int) -> datetime:
    return datetime.combine(D + timedelta(days=offset), datetime.min.time(), tzinfo=UTC).replace(
        hour=12
    )


def fact(player: Player, name: str, offset: int, **properties: object) -> None:
    record_server_event(
        game_id=player.game_id,
        player_id=player.pk,
        name=name,
        properties=properties,
        occurred_at=at(offset),
    )


def sent(player: Player, name: str, offset: int, event_id: str) -> None:
    RawEvent.objects.create(
        game_id=player.game_id,
        player=player,
        source=RawEvent.Source.CLIENT,
        name=name,
        event_id=event_id,
        occurred_at=at(offset),
        day=D + timedelta(days=offset),
        properties=PERSONAL,
    )


def figures(game: Game) -> dict[str, Any]:
    """Everything the dashboards read for D..D+1."""
    days = (D, D + timedelta(days=1))
    return {
        "daily": list(
            DailyMetrics.objects.filter(game=game, day__range=days)
            .order_by("day")
            .values(
                "day",
                "dau",
                "mau",
                "new_players",
                "sessions",
                "events",
                "paying_users",
                "purchases",
                "refunds",
                "matches",
                "match_players",
            )
        ),
        "revenue": list(
            RevenueDay.objects.filter(game=game, day__range=days)
            .order_by("day", "currency")
            .values("day", "currency", "purchases", "gross", "refunds", "refunded", "paying_users")
        ),
        "client": list(
            ClientEventDay.objects.filter(game=game, day__range=days)
            .order_by("day", "name")
            .values("day", "name", "events", "players")
        ),
        "retention": list(
            RetentionCell.objects.filter(game=game, cohort_day=D)
            .order_by("day_offset")
            .values("day_offset", "retained")
        ),
        "player_days": list(
            PlayerDay.objects.filter(game_id=game.pk, day__range=days)
            .order_by("player_id", "day")
            .values("player_id", "day", "events", "sessions")
        ),
    }


@pytest.mark.django_db
def test_a_past_day_reaggregated_after_the_erasure_keeps_its_figures(game: Game):
    alice = Player.objects.create(game=game, display_name="alice")
    bob = Player.objects.create(game=game, display_name="bob")
    for player in (alice, bob):
        fact(player, "player_created", 0)
        fact(player, "session_start", 0, kind="login", platform="dev")
        fact(player, "purchase_completed", 0, **USD)
        sent(player, "level_complete", 0, event_id=f"{player.pk}-a")
        # The next day, only the client's events: still a day active (DAU, retention).
        sent(player, "level_complete", 1, event_id=f"{player.pk}-b")
    fact(alice, "purchase_refunded", 1, **USD)
    aggregate_days(game_id=game.pk, start=D, end=D + timedelta(days=1))
    before = figures(game)
    assert before["daily"][0]["dau"] == 2 and before["daily"][1]["dau"] == 2
    assert before["revenue"][0]["gross"] == 998
    assert [cell["retained"] for cell in before["retention"][:2]] == [2, 2]

    assert erase_player(player=alice, actor=None) is True
    aggregate_days(game_id=game.pk, start=D, end=D + timedelta(days=1))

    assert figures(game) == before
    # The client's free-form values are gone; its events keep a name and a time.
    sent_by_alice = RawEvent.objects.filter(player=alice, source=RawEvent.Source.CLIENT)
    assert list(sent_by_alice.values_list("name", "event_id", "properties")) == [
        ("level_complete", None, {}),
        ("level_complete", None, {}),
    ]
    # The panel's own records, as they were.
    purchase = RawEvent.objects.get(player=alice, name="purchase_completed")
    assert purchase.source == RawEvent.Source.SERVER and purchase.properties == USD
    # Bob's events are not touched.
    assert set(
        RawEvent.objects.filter(player=bob, source=RawEvent.Source.CLIENT).values_list(
            "event_id", flat=True
        )
    ) == {f"{bob.pk}-a", f"{bob.pk}-b"}
    # The export (an operator's download after the erasure) shows the stripped events.
    (section,) = [s for s in privacy_sections() if s.name == "analytics"]
    exported = section.export(alice)["events"]
    assert {e["name"] for e in exported} >= {"level_complete", "purchase_completed"}
    assert PERSONAL not in [e["properties"] for e in exported]


@pytest.mark.django_db
def test_an_erased_players_batch_is_refused_whole(game: Game):
    player = Player.objects.create(game=game, display_name="alice")
    # Erased after its token was checked (`player` is the row read then): the service reads
    # erased_at itself.
    Player.objects.filter(pk=player.pk).update(erased_at=timezone.now())

    with pytest.raises(AccountDeleted, match="This account was deleted."):
        analytics_services.ingest_client_events(
            player=player,
            events=[
                analytics_services.ClientEvent(
                    name="level_complete", occurred_at=timezone.now(), properties=PERSONAL
                )
            ],
        )
    assert not RawEvent.objects.filter(player=player).exists()


ROUNDS = 4


def batch(round_: int) -> list[dict[str, Any]]:
    return [
        {
            "name": "level_complete",
            "occurred_at": timezone.now().isoformat(),
            "event_id": f"r{round_}-{n}",
            "properties": PERSONAL,
        }
        for n in range(3)
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_racing_an_erasure_leave_nothing_personal(game: Game):
    for round_ in range(ROUNDS):
        player = Player.objects.create(game=game, display_name=f"p{round_}")
        client = bearer(access_token(player))

        def write(client: APIClient = client, round_: int = round_) -> int:
            return client.post(EVENTS, {"events": batch(round_)}, format="json").status_code

        status, erased = race_with_erasure(write, player)

        assert erased is True
        assert status in (202, 401), status
        assert_nothing_personal(player, stored=3 if status == 202 else 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_checked_before_the_erasure_and_inserting_after_it_is_stripped_or_refused(
    game: Game, monkeypatch: pytest.MonkeyPatch
):
    """The worst order, forced: the batch's token is checked and its transaction begun, then the
    erasure runs, then the batch inserts. The erasure must wait for the batch (and strip what
    it inserted)."""
    inside = threading.Event()
    real_names_over_cap = analytics_services.names_over_cap
    real_erase = erasure_races.erase_player

    def names_over_cap(*, game_id: int, names: Sequence[str]) -> set[str]:
        inside.set()
        time.sleep(0.5)  # the erasure runs now, unless the batch holds the player's row
        return real_names_over_cap(game_id=game_id, names=names)

    def erase_when_inside(*, player: Player, actor: object) -> bool:
        assert inside.wait(10)
        return real_erase(player=player, actor=None)

    monkeypatch.setattr(analytics_services, "names_over_cap", names_over_cap)
    monkeypatch.setattr(erasure_races, "erase_player", erase_when_inside)
    player = Player.objects.create(game=game, display_name="alice")
    client = bearer(access_token(player))

    status, erased = race_with_erasure(
        lambda: client.post(EVENTS, {"events": batch(0)}, format="json").status_code, player
    )

    assert erased is True
    assert status == 202, status  # its token was good when it was checked
    assert_nothing_personal(player, stored=3)


def assert_nothing_personal(player: Player, *, stored: int) -> None:
    events = RawEvent.objects.filter(player=player, source=RawEvent.Source.CLIENT)
    assert list(events.values_list("event_id", "properties").distinct()) == (
        [(None, {})] if stored else []
    )
    assert events.count() == stored
