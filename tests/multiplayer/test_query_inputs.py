"""Query parameters of server-info and Photon's authenticate, read strictly and the same way
everywhere: each as sent (no trimming), a whole number in digits, a parameter once; server-info's
filters narrow `?id=` as they narrow the list; Photon's `token` as validate-token's body field."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import create_server_key
from apps.accounts.tokens import MAX_TOKEN_LENGTH

pytestmark = pytest.mark.django_db

SERVER_INFO = "/api/v1/multiplayer/server-info"
PHOTON = "/api/v1/multiplayer/photon/authenticate"


def beat(client: APIClient, server_id: str, *, region: str, mode: str) -> None:
    body = {"server_id": server_id, "region": region, "address": "10.0.0.1", "port": 7777}
    body |= {"capacity": 16, "players": 0, "mode": mode}
    response = client.post("/api/v1/multiplayer/servers/heartbeat", body, format="json")
    assert response.status_code == 200, response.content


@pytest.fixture
def servers(server_client):
    beat(server_client, "eu-1", region="eu-west", mode="duel")
    beat(server_client, "us-1", region="us-east", mode="Team Deathmatch")


# --- server-info?id= with region and mode -----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"id": "eu-1", "region": "us-east"},
        {"id": "eu-1", "mode": "ffa"},
        {"id": "eu-1", "region": "eu-west", "mode": "ffa"},
    ],
)
def test_an_id_outside_the_region_or_mode_given_is_404(player_client, servers, query):
    response = player_client.get(SERVER_INFO, query)

    assert (response.status_code, response.json()["code"]) == (404, "server_not_found")


@pytest.mark.parametrize(
    "query",
    [
        {"id": "eu-1", "region": "eu-west"},
        {"id": "eu-1", "mode": "duel"},
        {"id": "eu-1", "region": "eu-west", "mode": "duel", "limit": "3"},
        {"id": "eu-1", "region": "", "mode": ""},
    ],
)
def test_an_id_in_the_region_and_mode_given_is_that_server(player_client, servers, query):
    response = player_client.get(SERVER_INFO, query)

    assert response.status_code == 200
    assert response.json()["server_id"] == "eu-1"


def test_an_id_with_filters_costs_the_one_query(
    player_client, servers, django_assert_max_num_queries
):
    player_client.get(SERVER_INFO, {"id": "eu-1", "region": "eu-west"})  # warm

    with django_assert_max_num_queries(2):
        assert (
            player_client.get(SERVER_INFO, {"id": "eu-1", "region": "eu-west"}).status_code == 200
        )


# --- Each parameter as sent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("region", " eu-west"),
        ("region", "eu-west "),
        ("region", "eu-west\n"),
        ("region", "eu west"),
        ("region", "é"),
        ("mode", " duel"),
        ("mode", "duel\t"),
        ("mode", "du\u200bel"),
        ("mode", "a\x00"),
        ("mode", "x" * 33),
        ("limit", "1.0"),
        ("limit", "5.000"),
        ("limit", "+1"),
        ("limit", " 1"),
        ("limit", "1 "),
        ("limit", "\u0661"),  # ARABIC-INDIC DIGIT ONE, which int() reads as 1
        ("limit", "1_0"),
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "1e1"),
    ],
)
def test_a_filter_not_as_a_heartbeat_sends_it_is_400(player_client, servers, name, value):
    response = player_client.get(SERVER_INFO, {name: value})

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert name in response.json()["errors"]


def test_a_mode_with_spaces_inside_is_a_mode_a_heartbeat_stores(player_client, servers):
    response = player_client.get(SERVER_INFO, {"mode": "Team Deathmatch"})

    assert [s["server_id"] for s in response.json()] == ["us-1"]


@pytest.mark.parametrize(("limit", "count"), [("1", 1), ("2", 2), ("9" * 40, 2), ("", 2)])
def test_a_limit_in_digits_is_taken(player_client, servers, limit, count):
    response = player_client.get(SERVER_INFO, {"limit": limit})

    assert response.status_code == 200
    assert len(response.json()) == count


@pytest.mark.parametrize("name", ["id", "region", "mode", "limit"])
def test_a_parameter_sent_twice_is_400_not_its_last_value(player_client, servers, name):
    values = {"id": ["us-1", "eu-1"], "region": ["us-east", "eu-west"]}.get(
        name, {"mode": ["duel", "duel"], "limit": ["1", "2"]}.get(name)
    )

    response = player_client.get(f"{SERVER_INFO}?{urlencode({name: values}, doseq=True)}")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert response.json()["errors"] == {name: ["Send it once."]}


def test_an_unknown_parameter_sent_twice_is_ignored(player_client, servers):
    response = player_client.get(f"{SERVER_INFO}?t=1&t=2")

    assert response.status_code == 200


# --- Photon's token as validate-token's -------------------------------------------------------


def photon(query: list[tuple[str, str]]):
    return APIClient().get(f"{PHOTON}?{urlencode(query)}")


def test_photon_takes_one_token_never_the_last_of_several(tokens, game):
    key = create_server_key(game=game, name="photon").raw_key
    token = tokens["access_token"]

    answer = photon([("key", key), ("token", "nonsense"), ("token", token)])
    both_valid = photon([("key", key), ("token", token), ("token", token)])

    assert answer.status_code == 200
    assert answer.json()["ResultCode"] == 3
    assert "one `token`" in answer.json()["Message"]
    assert both_valid.json()["ResultCode"] == 3


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param("x" * (MAX_TOKEN_LENGTH + 1), id="over-the-limit"),
        pytest.param(" {token}", id="leading-space"),
        pytest.param("{token} ", id="trailing-space"),
        pytest.param("{token}\n", id="line-break"),
    ],
)
def test_photon_refuses_a_token_validate_token_refuses(tokens, game, server_client, shape):
    key = create_server_key(game=game, name="photon").raw_key
    token = shape.format(token=tokens["access_token"])

    answer = photon([("key", key), ("token", token)])
    validated = server_client.post(
        "/api/v1/multiplayer/validate-token", {"token": token}, format="json"
    )

    assert (validated.status_code, validated.json()["code"]) == (400, "validation_error")
    assert answer.status_code == 200
    assert answer.json()["ResultCode"] == 3
    assert str(MAX_TOKEN_LENGTH) in answer.json()["Message"]


def test_photon_still_takes_a_token_of_the_longest_length(tokens, game):
    key = create_server_key(game=game, name="photon").raw_key

    answer = photon([("key", key), ("token", "x" * MAX_TOKEN_LENGTH)])

    assert answer.json() == {"ResultCode": 2, "Message": "invalid_token"}
