"""The cap on each game's distinct client event names (apps.analytics.names): a client sending a
new name per event cannot grow the per-name aggregates and the dashboards' lists without bound."""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps as installed_apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.analytics import names as names_module
from apps.analytics.models import ClientEventDay, DirtyDay, EventName, RawEvent, RecentRun
from apps.analytics.services import ClientEvent, ingest_client_events
from tests.analytics.test_ingest_api import event, post

REGISTRY = EventName._meta.db_table


def stored_names(player: Player) -> list[str]:
    return sorted(set(RawEvent.objects.filter(player=player).values_list("name", flat=True)))


def registered(game_id: int) -> list[str]:
    return sorted(EventName.objects.filter(game_id=game_id).values_list("name", flat=True))


def client_events(*names: str) -> list[ClientEvent]:
    now = timezone.now()
    return [
        ClientEvent(name=name, occurred_at=now, properties={}, index=index)
        for index, name in enumerate(names)
    ]


@pytest.fixture
def cap(settings) -> int:
    settings.ANALYTICS_MAX_EVENT_NAMES = 3
    return 3


def test_a_new_name_past_the_cap_is_refused_on_its_own_and_the_rest_is_stored(
    player_client, player, cap
):
    batch = [event("level_up"), event("shop_open"), event("tutorial_done")]
    batch += [event("boss_1712345678"), event("level_up"), event("boss_1712345679")]

    response = post(player_client, batch)

    assert response.status_code == 207
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (4, 0)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (3, "too_many_event_names"),
        (5, "too_many_event_names"),
    ]
    assert "'boss_1712345678'" in body["rejected"][0]["detail"]
    assert "ANALYTICS_MAX_EVENT_NAMES" in body["rejected"][0]["detail"]
    assert stored_names(player) == ["level_up", "shop_open", "tutorial_done"]
    assert registered(player.game_id) == ["level_up", "shop_open", "tutorial_done"]


def test_at_the_cap_the_games_names_keep_working_and_a_new_one_stays_refused(
    player_client, player, cap
):
    post(player_client, [event("a"), event("b"), event("c")])

    known = post(player_client, [event("c"), event("a")])
    new = post(player_client, [event("d")])

    assert (known.status_code, known.json()) == (202, {"accepted": 2, "duplicates": 0})
    assert new.status_code == 207
    assert [r["code"] for r in new.json()["rejected"]] == ["too_many_event_names"]
    assert registered(player.game_id) == ["a", "b", "c"]


def test_the_first_new_names_of_a_batch_take_the_places_left(player_client, player, cap):
    post(player_client, [event("a")])

    response = post(player_client, [event("z"), event("a"), event("y"), event("x"), event("z")])

    assert [r["index"] for r in response.json()["rejected"]] == [3]
    assert registered(player.game_id) == ["a", "y", "z"]


def test_each_game_has_a_cap_of_its_own(player_client, player, api_client, cap):
    other = Game.objects.create(name="Beta", slug="beta", client_key="beta-key", sandbox=True)
    someone = Player.objects.create(game=other, display_name="bob")
    api_client.force_authenticate(user=someone)
    post(player_client, [event("a"), event("b"), event("c")])

    response = post(api_client, [event("d"), event("e"), event("f")])

    assert (response.status_code, response.json()) == (202, {"accepted": 3, "duplicates": 0})
    assert registered(other.pk) == ["d", "e", "f"]


def test_an_event_refused_for_another_reason_takes_no_place(player_client, player, cap):
    week_ago = (timezone.now() - timedelta(days=8)).isoformat()
    post(
        player_client,
        [
            event("old", occurred_at=week_ago),
            event("heavy", properties={"blob": "x" * 5000}),
            event("Bad Name"),
        ],
    )

    response = post(player_client, [event("a"), event("b"), event("c")])

    assert response.status_code == 202
    assert registered(player.game_id) == ["a", "b", "c"]


def test_a_game_already_over_the_cap_keeps_every_name_and_gains_none(player_client, player, cap):
    today = timezone.now().date()
    EventName.objects.bulk_create(
        [EventName(game_id=player.game_id, name=n, first_seen=today) for n in "abcde"]
    )

    kept = post(player_client, [event(n) for n in "abcde"])
    new = post(player_client, [event("f")])

    assert (kept.status_code, kept.json()["accepted"]) == (202, 5)
    assert [r["code"] for r in new.json()["rejected"]] == ["too_many_event_names"]
    assert registered(player.game_id) == list("abcde")


def test_a_batch_rolled_back_leaves_no_name_registered_or_known(
    player, cap, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ingest_client_events(player=player, events=client_events("a", "b", "c"))
        raise RuntimeError("the request failed after the batch")

    assert registered(player.game_id) == []
    assert names_module._known.known(player.game_id, ["a", "b", "c"]) == (set(), False)
    result = ingest_client_events(player=player, events=client_events("d", "e", "f"))
    assert (result.accepted, result.rejected) == (3, [])


def test_names_seen_registered_cost_no_query_until_they_expire(
    player, cap, monkeypatch, django_capture_on_commit_callbacks
):
    now = [1_000.0]
    monkeypatch.setattr(names_module, "_clock", lambda: now[0])
    with django_capture_on_commit_callbacks(execute=True):
        ingest_client_events(player=player, events=client_events("a", "b"))

    with CaptureQueriesContext(connection) as queries:
        assert ingest_client_events(player=player, events=client_events("b", "a")).accepted == 2
    assert not [q for q in queries if REGISTRY in q["sql"]]

    # An operator removes a name: a process that saw it registered accepts it KNOWN_SECONDS more.
    EventName.objects.filter(game_id=player.game_id, name="b").delete()
    EventName.objects.bulk_create(
        [EventName(game_id=player.game_id, name=n, first_seen=timezone.now()) for n in "cd"]
    )
    assert ingest_client_events(player=player, events=client_events("b")).rejected == []
    now[0] += names_module.KNOWN_SECONDS
    refused = ingest_client_events(player=player, events=client_events("b")).rejected
    assert [r.code for r in refused] == ["too_many_event_names"]


def test_a_full_game_is_not_locked_again_for_each_new_name(player, cap):
    ingest_client_events(player=player, events=client_events("a", "b", "c"))
    ingest_client_events(player=player, events=client_events("d"))  # finds the game full

    with CaptureQueriesContext(connection) as queries:
        result = ingest_client_events(player=player, events=client_events(*"efg"))

    assert [r.code for r in result.rejected] == ["too_many_event_names"] * 3
    assert not [q for q in queries if "advisory" in q["sql"]]
    assert len([q for q in queries if REGISTRY in q["sql"]]) == 1  # the look-up of its names


def test_the_migration_registers_every_name_a_game_already_has(player, game):
    """Aggregated names, and every name of the raw events (read through the (game, name, day)
    index, one lookup per name): recent days, dirty days, a game never aggregated, days long
    aggregated. Never the panel's facts."""
    migration = importlib.import_module("apps.analytics.migrations.0008_event_names")
    today = timezone.now().date()
    never_run = Game.objects.create(name="New", slug="new", client_key="new-key", sandbox=True)
    someone = Player.objects.create(game=never_run, display_name="dan")
    ClientEventDay.objects.create(game=game, day=today - timedelta(days=40), name="aggregated")
    ClientEventDay.objects.create(game=game, day=today - timedelta(days=10), name="aggregated")
    RecentRun.objects.create(game=game, day=today)
    DirtyDay.objects.create(game=game, day=today - timedelta(days=20))

    def raw(who: Player, name: str, days_ago: int, source: str = "client") -> None:
        when = timezone.now() - timedelta(days=days_ago)
        RawEvent.objects.create(
            game_id=who.game_id, player=who, source=source, name=name, occurred_at=when,
            day=when.date(),
        )  # fmt: skip

    raw(player, "aggregated", 10)
    raw(player, "today", 0)
    raw(player, "late", 20)
    raw(player, "session_start", 0, source="server")
    raw(someone, "long_ago", 300)

    raw(player, "older", 100)

    migration.register_existing_names(installed_apps, SimpleNamespace(connection=connection))

    first_seen = dict(EventName.objects.values_list("name", "first_seen"))
    assert registered(game.pk) == ["aggregated", "late", "older", "today"]
    assert registered(never_run.pk) == ["long_ago"]
    assert first_seen["aggregated"] == today - timedelta(days=40)
    assert first_seen["older"] == today - timedelta(days=100)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_never_take_a_game_past_the_cap(player, settings):
    """The 9th and 10th names, wanted by 8 batches at once with 2 new names each."""
    settings.ANALYTICS_MAX_EVENT_NAMES = 10
    ingest_client_events(player=player, events=client_events(*(f"known_{n}" for n in range(8))))
    start = threading.Barrier(8)

    def send(number: int) -> int:
        try:
            start.wait()
            batch = client_events("known_0", f"new_{number}_a", f"new_{number}_b")
            return len(ingest_client_events(player=player, events=batch).rejected)
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        refused = sum(pool.map(send, range(8)))

    assert EventName.objects.filter(game_id=player.game_id).count() == 10
    assert refused == 14
    new_names = set(RawEvent.objects.filter(name__startswith="new_").values_list("name", flat=True))
    assert new_names == set(registered(player.game_id)) - {f"known_{n}" for n in range(8)}
