from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.analytics.models import DirtyDay, RawEvent

URL = "/api/v1/analytics/events"


def event(name: str = "level_up", **extra: object) -> dict:
    return {"name": name, "occurred_at": timezone.now().isoformat(), "properties": {}, **extra}


def post(client, events: list) -> object:
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
def test_client_cannot_send_the_panels_own_facts(player_client, name):
    response = post(player_client, [event(), event(name)])

    assert response.status_code == 400
    assert response.json()["code"] == "reserved_event_name"
    assert response.json()["index"] == 1
    assert not RawEvent.objects.exists()  # the valid event of the batch is not stored either


@pytest.mark.parametrize(
    ("delta", "accepted"),
    [(timedelta(hours=-23), True), (timedelta(days=-2), False), (timedelta(hours=1), False)],
)
def test_clock_skew_is_bounded(player_client, delta, accepted):
    when = (timezone.now() + delta).isoformat()

    response = post(player_client, [event(occurred_at=when)])

    assert response.status_code == (202 if accepted else 400)
    if not accepted:
        assert response.json()["code"] == "event_out_of_range"
    assert RawEvent.objects.count() == int(accepted)


def test_only_events_older_than_yesterday_mark_their_day_dirty(player_client, settings):
    settings.ANALYTICS_MAX_CLOCK_SKEW_SECONDS = 5 * 86400
    three_days_ago = timezone.now() - timedelta(days=3)

    post(player_client, [event(), event(occurred_at=three_days_ago.isoformat())])

    assert list(DirtyDay.objects.values_list("day", flat=True)) == [three_days_ago.date()]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"events": [event("Bad Name")]}, "validation_error"),
        ({"events": [event("x" * 65)]}, "validation_error"),
        ({"events": [event(occurred_at="yesterday")]}, "validation_error"),
        ({"events": [event(properties=[1, 2])]}, "validation_error"),
        ({"events": [event(event_id="has space")]}, "validation_error"),
        ({"events": []}, "validation_error"),
        ({"events": "nope"}, "validation_error"),
        ({}, "validation_error"),
        ([event()], "validation_error"),
        ({"events": [event(properties={"blob": "x" * 5000})]}, "properties_too_large"),
        ({"events": [event()] * 101}, "batch_too_large"),
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(player_client, body, code):
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
