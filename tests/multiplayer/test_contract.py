"""The game-server contract as a generated client reads it: strings are strings, the minimum
match result `{match_id, players}` is enough, undeclared stats follow the game's rule, and the
schema's shapes are what the server answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.services.sessions import open_session
from apps.multiplayer.models import Match, MatchResult, MatchSettings
from apps.stats.models import PlayerStat
from tests.multiplayer.conftest import URL, match_body
from tests.multiplayer.test_registry import DEREGISTER, SERVER_INFO, beat

pytestmark = pytest.mark.django_db


def test_the_contracts_minimum_match_result_is_recorded_with_the_documented_defaults(
    server_client, make_players
):
    (alice,) = make_players(1)
    before = timezone.now()

    response = server_client.post(
        URL,
        {"match_id": "m-min", "players": [{"player_id": alice.pk, "outcome": "win"}]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mode"] == ""
    assert body["started_at"] == body["ended_at"]
    match = Match.objects.get(match_id="m-min")
    assert match.mode == ""
    assert before <= match.ended_at <= timezone.now()
    assert match.started_at == match.ended_at
    assert body["players"][0]["ignored_stats"] == []


def test_only_started_at_given_ends_the_match_when_it_is_received(server_client, make_players):
    (alice,) = make_players(1)
    started = timezone.now() - timedelta(minutes=12)

    response = server_client.post(
        URL,
        {
            "match_id": "m-start",
            "started_at": started.isoformat(),
            "players": [{"player_id": alice.pk, "outcome": "win"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    match = Match.objects.get(match_id="m-start")
    assert match.started_at == started
    assert match.ended_at >= started


@pytest.mark.parametrize(
    ("field", "value"), [("mode", 0), ("match_id", 123), ("mode", True), ("match_id", 1.5)]
)
def test_match_result_strings_refuse_other_types(server_client, make_players, field, value):
    (alice,) = make_players(1)
    body = match_body("m-typed", [alice], stats={}) | {field: value}

    response = server_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]
    assert not Match.objects.exists()


def test_undeclared_stats_are_refused_by_default(server_client, make_players, stat_defs):
    (alice,) = make_players(1)

    response = server_client.post(
        URL, match_body("m-r", [alice], stats={"kills": 3, "hats": 2}), format="json"
    )

    assert (response.status_code, response.json()["code"]) == (400, "unknown_stat")
    assert response.json()["stats"] == ["hats"]
    assert not Match.objects.exists()


def test_under_the_ignore_rule_undeclared_stats_are_left_out_and_reported_per_player(
    server_client, game, make_players, stat_defs
):
    MatchSettings.objects.create(game=game, undeclared_stats="ignore")
    alice, bob = make_players(2)
    body = match_body("m-i", [alice, bob], stats={"kills": 3})
    body["players"][0]["stats"] = {"kills": 3, "hats": 2, "aces": 1}

    first = server_client.post(URL, body, format="json")
    again = server_client.post(URL, body, format="json")

    assert first.status_code == 201, first.content
    lines = {line["player_id"]: line["ignored_stats"] for line in first.json()["players"]}
    assert lines == {alice.pk: ["aces", "hats"], bob.pk: []}
    assert again.status_code == 200
    assert again.json()["players"] == first.json()["players"]  # a repeat answers the same
    assert dict(
        PlayerStat.objects.filter(player=alice).values_list("definition__key", "value")
    ) == {"kills": 3}
    assert MatchResult.objects.get(player=alice).ignored_stats == ["aces", "hats"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", 0), ("mode", 7), ("region", 5), ("server_id", 1), ("address", 10)],
)
def test_heartbeat_strings_refuse_other_types(server_client, field, value):
    response = beat(server_client, "eu-1", **{field: value})

    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("server_id", ["eu-1\n", " eu-1", "eu-1 "])
def test_a_name_is_taken_as_sent_or_refused_never_trimmed(server_client, player_client, server_id):
    """Python's `$` matches before a final line break and DRF trims by default: `"eu-1\n"` was
    registered as `"eu-1"`, though the schema's pattern refuses it."""
    response = beat(server_client, server_id)

    assert response.status_code == 400
    assert "server_id" in response.json()["errors"]
    assert player_client.get(SERVER_INFO).json() == []


def test_deregister_refuses_a_server_id_that_is_not_a_string(server_client, player_client):
    beat(server_client, "1")

    response = server_client.post(DEREGISTER, {"server_id": 1}, format="json")

    assert response.status_code == 400
    assert len(player_client.get(SERVER_INFO).json()) == 1


@pytest.mark.parametrize("token", [0, 1.5, True, ["x"], {"a": 1}, None])
@pytest.mark.parametrize("url", ["/api/v1/multiplayer/validate-token", "/api/v1/auth/validate"])
def test_validate_token_refuses_a_token_that_is_not_a_string(server_client, url, token):
    response = server_client.post(url, {"token": token}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


def test_server_info_by_path_answers_the_same_object_as_by_id(server_client, player_client):
    beat(server_client, "eu-1")

    by_query = player_client.get(SERVER_INFO, {"id": "eu-1"})
    by_path = player_client.get(f"{SERVER_INFO}/eu-1")
    missing = player_client.get(f"{SERVER_INFO}/nope")

    assert by_path.status_code == 200
    assert by_path.json() == by_query.json()
    assert isinstance(by_path.json(), dict)
    assert (missing.status_code, missing.json()["code"]) == (404, "server_not_found")
    # Empty query values read as not given, as in v1: the list.
    assert player_client.get(SERVER_INFO, {"id": "", "region": "", "mode": ""}).json() == [
        by_query.json()
    ]


def test_a_token_without_the_player_permission_is_refused_on_player_endpoints(game, player):
    from rest_framework.test import APIClient

    from apps.accounts.tokens import issue_access_token

    session = open_session(player=player, platform="dev", now=timezone.now())
    claims = {"player_id": player.pk, "game_id": game.pk}
    token = issue_access_token(**claims, session_id=session.session.pk, permissions=()).token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    refused = client.get(SERVER_INFO)
    allowed = APIClient()
    allowed.credentials(HTTP_AUTHORIZATION=f"Bearer {session.access_token}")

    assert (refused.status_code, refused.json()["code"]) == (403, "permission_missing")
    assert allowed.get(SERVER_INFO).status_code == 200
