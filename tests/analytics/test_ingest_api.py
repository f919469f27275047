from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.analytics.models import DirtyDay, RawEvent

URL = "/api/v1/analytics/events"


def event(name: str = "level_up", **extra: object) -> dict:
    return {"name": name, "occurred_at": timezone.now().isoformat(), "properties": {}, **extra}


def post(client, events: list) -> Any:
    return client.post(URL, {"events": events}, format="json")


def test_batch_is_stored_append_only_and_answers_202(player_client, player):
    response = post(player_client, [event(properties={"level": 3}), event("tutorial_done")])

    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0}
    rows = RawEvent.objects.filter(player=player).order_by("name")
    assert [(r.name, r.source, r.game_id) for r in rows] == [
        ("level_up", "client", player.game_id),
        ("tutorial_done", "client", player.game_id),
    ]
    assert rows[0].properties == {"level": 3}
    assert rows[0].day == timezone.now().date()


def test_duplicate_event_ids_in_a_batch_and_on_retry_are_stored_once(player_client, player):
    batch = [event(event_id="e-1"), event(event_id="e-1"), event(event_id="e-2"), event()]

    first = post(player_client, batch)
    retry = post(player_client, batch)

    assert first.json() == {"accepted": 3, "duplicates": 1}
    assert retry.json() == {"accepted": 1, "duplicates": 3}  # the event without an id is new
    assert RawEvent.objects.filter(player=player, event_id="e-1").count() == 1
    assert RawEvent.objects.filter(player=player).count() == 4


def test_same_event_id_from_another_player_is_a_different_event(
    player_client, player, game, api_client
):
    from apps.accounts.models import Player

    someone = Player.objects.create(game=game, display_name="carol")
    api_client.force_authenticate(user=someone)
    post(player_client, [event(event_id="shared")])

    assert post(api_client, [event(event_id="shared")]).json()["accepted"] == 1


@pytest.mark.parametrize(
    "name", ["session_start", "purchase_completed", "match_played", "player_created"]
)
def test_the_panels_own_facts_are_rejected_one_by_one_and_the_rest_is_stored(
    player_client, player, name
):
    response = post(player_client, [event(), event(name), event("tutorial_done")])

    assert response.status_code == 207
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "reserved_event_name")]
    assert sorted(RawEvent.objects.filter(player=player).values_list("name", flat=True)) == [
        "level_up",
        "tutorial_done",
    ]


@pytest.mark.parametrize(
    ("delta", "accepted"),
    [
        (timedelta(hours=-23), True),
        (timedelta(days=-2), True),
        (timedelta(days=-6, hours=-23), True),
        (timedelta(days=-7, minutes=-1), False),
        (timedelta(hours=1), False),
    ],
)
def test_events_up_to_seven_days_old_are_accepted(player_client, delta, accepted):
    when = (timezone.now() + delta).isoformat()

    response = post(player_client, [event(occurred_at=when)])

    if accepted:
        assert (response.status_code, response.json()) == (202, {"accepted": 1, "duplicates": 0})
    else:
        assert response.status_code == 207
        assert response.json()["accepted"] == 0
        assert [r["code"] for r in response.json()["rejected"]] == ["event_out_of_range"]
    assert RawEvent.objects.count() == int(accepted)


def test_the_age_limit_is_a_setting(player_client, settings):
    settings.ANALYTICS_MAX_CLOCK_SKEW_SECONDS = 86400
    two_days_ago = (timezone.now() - timedelta(days=2)).isoformat()

    response = post(player_client, [event(occurred_at=two_days_ago), event()])

    assert response.status_code == 207
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
        (0, "event_out_of_range")
    ]
    assert RawEvent.objects.count() == 1


def test_only_events_older_than_yesterday_mark_their_day_dirty(player_client):
    three_days_ago = timezone.now() - timedelta(days=3)

    post(player_client, [event(), event(occurred_at=three_days_ago.isoformat())])

    assert list(DirtyDay.objects.values_list("day", flat=True)) == [three_days_ago.date()]


def test_an_offline_players_week_old_events_land_in_their_days_aggregates(player_client, player):
    from django.core.management import call_command

    from apps.analytics.models import DailyMetrics, PlayerDay

    days_ago = {5: timezone.now() - timedelta(days=5), 6: timezone.now() - timedelta(days=6)}
    response = post(
        player_client,
        [
            event(occurred_at=days_ago[5].isoformat(), event_id="a"),
            event(occurred_at=days_ago[5].isoformat(), event_id="b"),
            event(occurred_at=days_ago[6].isoformat(), event_id="c"),
        ],
    )
    assert response.status_code == 202

    call_command("aggregate_analytics", "--from", str(days_ago[6].date()), "--no-progress")

    counted = dict(
        PlayerDay.objects.filter(game_id=player.game_id, player_id=player.pk).values_list(
            "day", "events"
        )
    )
    assert counted == {days_ago[5].date(): 2, days_ago[6].date(): 1}
    daily = dict(DailyMetrics.objects.filter(game_id=player.game_id).values_list("day", "events"))
    assert (daily[days_ago[5].date()], daily[days_ago[6].date()]) == (2, 1)
    assert daily[timezone.now().date()] == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (event("Bad Name"), "name"),
        (event("x" * 65), "name"),
        (event(occurred_at="yesterday"), "occurred_at"),
        (event(properties=[1, 2]), "properties"),
        (event(event_id="has space"), "event_id"),
        (event(name=7), "name"),  # type: ignore[arg-type]
        ("not an event", "non_field_errors"),
    ],
)
def test_a_malformed_event_is_rejected_on_its_own(player_client, player, raw, field):
    response = post(player_client, [event(event_id="ok"), raw])

    assert response.status_code == 207
    assert response["Content-Type"] == "application/json"
    (rejection,) = response.json()["rejected"]
    assert (rejection["index"], rejection["code"]) == (1, "validation_error")
    assert field in rejection["errors"]
    assert list(RawEvent.objects.values_list("event_id", flat=True)) == ["ok"]


@pytest.mark.parametrize(
    ("field", "value"), [("event_id", 5), ("event_id", "e1\n"), ("name", "level_up\n")]
)
def test_names_and_ids_are_strings_taken_as_sent(player_client, field, value):
    response = post(player_client, [event(**{field: value})])

    assert response.status_code == 207
    (rejection,) = response.json()["rejected"]
    assert rejection["code"] == "validation_error" and field in rejection["errors"]
    assert not RawEvent.objects.exists()


def test_properties_too_large_are_rejected_per_event(player_client):
    response = post(player_client, [event(properties={"blob": "x" * 5000})])

    assert response.status_code == 207
    assert response.json()["rejected"][0]["code"] == "properties_too_large"
    assert not RawEvent.objects.exists()


def test_properties_are_measured_in_utf8_bytes_as_the_kits_count_them(player_client):
    fits = {"name": "é" * 2000}  # 4011 bytes of UTF-8 JSON, 12011 with \u00e9 escapes
    too_big = {"name": "é" * 2100}  # 4211 bytes

    response = post(player_client, [event(properties=fits), event(properties=too_big)])

    assert response.status_code == 207
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    assert "4211 bytes" in response.json()["rejected"][0]["detail"]
    assert RawEvent.objects.count() == 1


def test_properties_are_measured_with_each_number_as_it_is_stored(player_client):
    """jsonb keeps `1e308` as its 309 digits: counted as sent (7 bytes), fourteen of them would
    store 4.3 KB under the 4,096-byte limit."""
    fits = {"n": [1e308] * 13}  # 4037 bytes stored
    too_big = {"n": [1e308] * 14}  # 4347 bytes stored, 105 sent

    response = post(player_client, [event(properties=fits), event(properties=too_big)])

    assert response.status_code == 207
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    assert response.json()["rejected"][0]["code"] == "properties_too_large"
    assert "4347 bytes" in response.json()["rejected"][0]["detail"]
    assert RawEvent.objects.count() == 1


@pytest.mark.parametrize(
    "properties", [{"note": "a\u0000b"}, {"k\u0000": 1}, {"a": [{"b": "\u0000"}]}]
)
def test_properties_the_database_cannot_store_are_rejected_per_event(player_client, properties):
    """PostgreSQL's jsonb holds no U+0000: the event is refused on its own (it was a 500 for
    the whole batch), and the rest of the batch is stored."""
    response = post(
        player_client, [event(event_id="ok"), event(event_id="bad", properties=properties)]
    )

    assert response.status_code == 207
    (rejection,) = response.json()["rejected"]
    assert (rejection["index"], rejection["code"]) == (1, "unsupported_character")
    assert list(RawEvent.objects.values_list("event_id", flat=True)) == ["ok"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"events": []}, "validation_error"),
        ({"events": "nope"}, "validation_error"),
        ({}, "validation_error"),
        ([event()], "validation_error"),
        ({"events": [event()] * 101}, "batch_too_large"),
    ],
)
def test_a_malformed_batch_is_a_problem_and_stores_nothing(player_client, body, code):
    response = player_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert not RawEvent.objects.exists()


def test_malformed_json_is_a_problem(player_client):
    response = player_client.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_without_a_player_token_nothing_is_stored(api_client, server_client):
    assert post(api_client, [event()]).status_code == 401
    assert post(server_client, [event()]).status_code in {401, 403}
    assert not RawEvent.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_retries_of_a_batch_store_each_event_once(player):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from apps.analytics.services import ClientEvent, ingest_client_events

    batch = [
        ClientEvent(name="level_up", occurred_at=timezone.now(), properties={}, event_id=f"e{n}")
        for n in range(20)
    ]

    def send(_: int) -> int:
        try:
            return ingest_client_events(player=player, events=batch).accepted
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(send, range(6)))

    assert RawEvent.objects.filter(player=player).count() == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retry_sent_while_the_first_call_runs_is_answered_as_duplicates(player, monkeypatch):
    """The kit retries a batch whose call timed out while that call is still storing it: the
    retry must answer its events as duplicates, not as accepted a second time."""
    import threading

    from django.db import connection

    from apps.analytics import services
    from apps.analytics.models import EventName
    from apps.analytics.services import ClientEvent, ingest_client_events

    # Registered already: no batch here takes the game's names lock.
    EventName.objects.create(game=player.game, name="level_up", first_seen=timezone.now().date())
    batch = [
        ClientEvent(name="level_up", occurred_at=timezone.now(), properties={}, event_id=f"e{n}")
        for n in range(5)
    ]
    inserted = threading.Event()
    mark_late_days = services.mark_late_days

    def first_call_lingers(**kwargs: Any) -> None:
        # Called after the insert, before the commit: the first call waits here a moment.
        if not inserted.is_set():
            inserted.set()
            threading.Event().wait(1)
        mark_late_days(**kwargs)

    monkeypatch.setattr(services, "mark_late_days", first_call_lingers)
    results: dict[str, tuple[int, int]] = {}

    def send(which: str) -> None:
        try:
            result = ingest_client_events(player=player, events=batch)
            results[which] = (result.accepted, result.duplicates)
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert inserted.wait(10)
    retry = threading.Thread(target=send, args=("retry",))
    retry.start()
    first.join(20)
    retry.join(20)

    assert results == {"first": (5, 0), "retry": (0, 5)}
    assert RawEvent.objects.filter(player=player).count() == 5


def post_with_deep_properties(client, depth: int) -> Any:
    """A good event, then one whose properties hold `depth` nested arrays, sent as text (the
    test client's own encoder would run out of recursion first)."""
    fine, deep = event(event_id="ok"), event(event_id="deep", properties={"d": "DEEP"})
    body = json.dumps({"events": [fine, deep]}).replace('"DEEP"', "[" * depth + "]" * depth)
    return client.post(URL, body, content_type="application/json")


def test_properties_nested_too_deep_are_rejected_per_event(player_client):
    response = post_with_deep_properties(player_client, 65)

    assert response.status_code == 207
    (rejection,) = response.json()["rejected"]
    assert (rejection["index"], rejection["code"]) == (1, "value_too_deep")
    assert list(RawEvent.objects.values_list("event_id", flat=True)) == ["ok"]


@pytest.mark.parametrize("depth", [900, 950, 975, 985])
def test_properties_nested_near_the_parsers_limit_are_never_a_5xx(player_client, depth):
    # Once a 500: parsed, then encoded again for the database many calls further down.
    response = post_with_deep_properties(player_client, depth)

    assert response.status_code in (207, 400), response.content[:300]
    if response.status_code == 207:
        assert response.json()["rejected"][0]["code"] == "value_too_deep"
    else:
        assert response.json()["code"] in ("malformed_json", "validation_error")
    assert not RawEvent.objects.filter(event_id="deep").exists()


def test_oversized_properties_are_encoded_once_before_the_other_checks(player_client):
    """An event of many thousand keys is refused after one encoding of its properties, not
    after one per check (depth, characters, size)."""
    import json as json_module
    from unittest import mock

    many = {f"k{n}": n for n in range(5000)}
    real_dumps = json_module.dumps
    with mock.patch.object(json_module, "dumps", side_effect=real_dumps) as dumps:
        response = post(player_client, [event(properties=many)])

    assert response.status_code == 207
    assert response.json()["rejected"][0]["code"] == "properties_too_large"
    assert sum(1 for call in dumps.call_args_list if call.args and call.args[0] == many) == 1


@pytest.mark.parametrize("time_zone", ["UTC", "America/New_York"])
def test_a_time_sent_without_an_offset_is_read_as_utc_as_the_guide_says(
    player_client, player, settings, time_zone
):
    """docs/analytics.md: "one sent without (…, or a date alone) is read as UTC"; the rule is
    the API's, not the server's TIME_ZONE."""
    settings.TIME_ZONE = time_zone
    an_hour_ago = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    naive = an_hour_ago.astimezone(UTC).replace(tzinfo=None).isoformat()

    response = post(player_client, [event(occurred_at=naive)])

    assert (response.status_code, response.json()) == (202, {"accepted": 1, "duplicates": 0})
    stored = RawEvent.objects.get(player=player)
    assert stored.occurred_at == an_hour_ago
    assert stored.day == an_hour_ago.astimezone(UTC).date()


def test_the_schema_states_that_a_time_without_an_offset_is_utc():
    from apps.analytics.api import EventSerializer

    help_text = str(EventSerializer().fields["occurred_at"].help_text)

    assert "without one" in help_text and "read as UTC" in help_text
