import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import create_server_key
from apps.accounts.services.sessions import open_session
from apps.multiplayer.models import RegisteredServer
from apps.multiplayer.selectors import live_server, live_servers

HEARTBEAT = "/api/v1/multiplayer/servers/heartbeat"
DEREGISTER = "/api/v1/multiplayer/servers/deregister"
SERVER_INFO = "/api/v1/multiplayer/server-info"


def beat(client, name: str, **fields) -> object:
    body = {
        "server_id": name,
        "region": "eu-west",
        "address": "10.0.0.1",
        "port": 7777,
        "capacity": 16,
        "players": 0,
        "mode": "duel",
        "version": "1.2.0",
    } | fields
    return client.post(HEARTBEAT, body, format="json")


@pytest.mark.django_db
def test_heartbeat_registers_then_refreshes_one_entry(server_client, game):
    first = beat(server_client, "eu-1", players=2)
    second = beat(server_client, "eu-1", players=9, version="1.3.0")

    assert first.status_code == 200
    assert first.json() == {"server_id": "eu-1", "ttl_seconds": 30}
    assert second.status_code == 200
    server = RegisteredServer.objects.get()
    assert (server.game, server.players, server.version) == (game, 9, "1.3.0")
    assert server.last_heartbeat_at > server.registered_at


@pytest.mark.django_db
def test_server_info_lists_most_free_capacity_first(server_client, player_client):
    beat(server_client, "full-ish", capacity=16, players=15)
    beat(server_client, "empty", capacity=8, players=0)
    beat(server_client, "half", capacity=32, players=20)

    response = player_client.get(SERVER_INFO)

    assert response.status_code == 200
    assert [(s["server_id"], s["free_slots"]) for s in response.json()] == [
        ("half", 12),
        ("empty", 8),
        ("full-ish", 1),
    ]
    assert set(response.json()[0]) == {
        "server_id",
        "region",
        "address",
        "port",
        "players",
        "capacity",
        "free_slots",
        "mode",
        "version",
        "last_heartbeat_at",
    }


@pytest.mark.django_db
def test_server_info_filters_by_region_and_mode(server_client, player_client):
    beat(server_client, "eu-duel", region="eu-west", mode="duel")
    beat(server_client, "eu-ffa", region="eu-west", mode="ffa")
    beat(server_client, "us-duel", region="us-east", mode="duel")

    eu = player_client.get(SERVER_INFO, {"region": "eu-west"}).json()
    eu_duel = player_client.get(SERVER_INFO, {"region": "eu-west", "mode": "duel"}).json()

    assert {s["server_id"] for s in eu} == {"eu-duel", "eu-ffa"}
    assert [s["server_id"] for s in eu_duel] == ["eu-duel"]


@pytest.mark.django_db
def test_server_info_by_id_returns_one_or_404(server_client, player_client):
    beat(server_client, "eu-1")

    found = player_client.get(SERVER_INFO, {"id": "eu-1"})
    missing = player_client.get(SERVER_INFO, {"id": "nope"})

    assert (found.status_code, found.json()["server_id"]) == (200, "eu-1")
    assert (missing.status_code, missing.json()["code"]) == (404, "server_not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "server_id", [" eu-1", "eu-1 ", "eu-1\n", "\teu-1", " ", "eu 1", "eu/1", "-eu-1", "é", "a\x00"]
)
def test_server_info_reads_the_id_as_a_heartbeat_does_or_refuses_it(
    server_client, player_client, server_id
):
    beat(server_client, "eu-1")
    refused = beat(server_client, server_id)

    response = player_client.get(SERVER_INFO, {"id": server_id})

    assert (refused.status_code, refused.json()["code"]) == (400, "validation_error")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert "id" in response.json()["errors"]


@pytest.mark.django_db
def test_server_info_with_an_empty_id_is_the_list(server_client, player_client):
    beat(server_client, "eu-1")

    response = player_client.get(SERVER_INFO, {"id": ""})

    assert response.status_code == 200
    assert [s["server_id"] for s in response.json()] == ["eu-1"]


@pytest.mark.django_db
def test_live_servers_and_one_live_server_are_one_query_each(
    server_client, game, django_assert_num_queries
):
    for n in range(5):
        beat(server_client, f"eu-{n}", players=n)

    with django_assert_num_queries(1):
        servers = list(live_servers(game_id=game.pk, region="eu-west"))
    with django_assert_num_queries(1):
        server = live_server(game_id=game.pk, server_id="eu-3")

    assert [(s["server_id"], s["free_slots"]) for s in servers][:2] == [("eu-0", 16), ("eu-1", 15)]
    assert (server["server_id"], server["players"], server["free_slots"]) == ("eu-3", 3, 13)


@pytest.mark.django_db
def test_a_whole_server_info_request_with_a_real_token_costs_at_most_three_queries(
    server_client, api_client, player, django_assert_max_num_queries
):
    # The request pipeline (token, revocation, budget, player) costs one query until it is
    # served from memory; this endpoint's own read is one.
    beat(server_client, "eu-1")
    token = open_session(player=player, platform="dev", now=timezone.now()).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(SERVER_INFO).status_code == 200  # warm

    with django_assert_max_num_queries(3):
        response = api_client.get(SERVER_INFO)

    assert [s["server_id"] for s in response.json()] == ["eu-1"]


@pytest.mark.django_db
def test_servers_of_another_game_are_not_listed(player_client, other_game):
    other = APIClient()
    other.credentials(HTTP_X_SERVER_KEY=create_server_key(game=other_game, name="b").raw_key)
    beat(other, "theirs")

    assert player_client.get(SERVER_INFO).json() == []
    assert player_client.get(SERVER_INFO, {"id": "theirs"}).status_code == 404


@pytest.mark.django_db
def test_a_server_that_stops_beating_drops_out_after_the_ttl(
    server_client, player_client, settings
):
    settings.SERVER_HEARTBEAT_TTL_SECONDS = 1
    beat(server_client, "quiet")
    beat(server_client, "alive")
    assert {s["server_id"] for s in player_client.get(SERVER_INFO).json()} == {"quiet", "alive"}

    time.sleep(0.7)
    beat(server_client, "alive")
    time.sleep(0.5)

    listed = player_client.get(SERVER_INFO).json()
    assert [s["server_id"] for s in listed] == ["alive"]
    assert player_client.get(SERVER_INFO, {"id": "quiet"}).status_code == 404
    assert RegisteredServer.objects.filter(server_id="quiet").exists()  # kept, just not listed


@pytest.mark.django_db
def test_deregistered_server_leaves_the_list_at_once(server_client, player_client):
    beat(server_client, "eu-1")

    response = server_client.post(DEREGISTER, {"server_id": "eu-1"}, format="json")

    assert response.status_code == 204
    assert player_client.get(SERVER_INFO).json() == []


@pytest.mark.django_db
@pytest.mark.parametrize("server_id", [" eu-1 ", "eu-1\n", "", "eu 1"])
def test_deregister_takes_the_server_id_as_sent_or_refuses_it(
    server_client, player_client, server_id
):
    beat(server_client, "eu-1")

    response = server_client.post(DEREGISTER, {"server_id": server_id}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert [s["server_id"] for s in player_client.get(SERVER_INFO).json()] == ["eu-1"]


@pytest.mark.parametrize(
    "fields",
    [
        {"players": 17},
        {"port": 0},
        {"port": 70000},
        {"capacity": 0},
        {"server_id": ""},
        {"server_id": "has space"},
        {"region": "r" * 33},
        {"players": -1},
        {"port": "7000"},  # a number as text: JSON integers only
        {"capacity": 16.0},
    ],
)
@pytest.mark.django_db
def test_malformed_heartbeat_is_400_and_registers_nothing(server_client, fields):
    response = beat(server_client, "eu-1", **fields)

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert not RegisteredServer.objects.exists()


@pytest.mark.django_db
def test_player_token_on_heartbeat_is_403_wrong_credential_kind(player_client):
    response = beat(player_client, "eu-1")

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")
    assert not RegisteredServer.objects.exists()


@pytest.mark.django_db
def test_server_key_on_server_info_is_403_wrong_credential_kind(server_client):
    response = server_client.get(SERVER_INFO)

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")


@pytest.mark.django_db
def test_revoked_server_key_cannot_beat(api_client, game):
    from apps.accounts.services import revoke_server_key

    issued = create_server_key(game=game, name="old")
    revoke_server_key(server_key=issued.server_key)
    api_client.credentials(HTTP_X_SERVER_KEY=issued.raw_key)

    response = beat(api_client, "eu-1")

    assert (response.status_code, response.json()["code"]) == (401, "invalid_server_key")
    assert not RegisteredServer.objects.exists()


@pytest.mark.django_db
def test_server_info_bytes_are_what_the_server_serializer_renders(server_client, player_client):
    from rest_framework.renderers import JSONRenderer

    from apps.multiplayer.api import ServerSerializer

    beat(server_client, "eu-1", players=3, version="1.2.0")
    beat(server_client, "us-1", region="us-east", mode="duel")

    listed = player_client.get("/api/v1/multiplayer/server-info")
    one = player_client.get("/api/v1/multiplayer/server-info?id=us-1")

    rows = [RegisteredServer.objects.get(server_id=s) for s in ("us-1", "eu-1")]  # most free
    render = JSONRenderer().render
    assert listed.content == render(ServerSerializer(rows, many=True).data)
    assert one.content == render(ServerSerializer(rows[0]).data)
    assert listed.json()[0]["last_heartbeat_at"].endswith("Z")


@pytest.mark.parametrize(
    "server_id",
    ["%00", "a%00b", "x" * 101, "-leading-dash", "us-1%0A", "us-1/x", "us-1/", "us%2F1", "a/b/c"],
)
def test_a_server_id_no_server_registers_is_404_in_the_path(player_client, server_id):
    response = player_client.get(f"{SERVER_INFO}/{server_id}")

    assert response.status_code == 404
    assert response.json()["code"] == "server_not_found"


@pytest.fixture
def partner_client(game) -> APIClient:
    """A second server key of the same game (another fleet or hosting partner)."""
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=create_server_key(game=game, name="partner").raw_key)
    return client


@pytest.mark.django_db
def test_another_key_cannot_take_over_or_remove_a_live_server(
    server_client, partner_client, player_client
):
    beat(server_client, "eu-1", address="10.0.0.1")

    taken = beat(partner_client, "eu-1", address="198.51.100.9")
    removed = partner_client.post(DEREGISTER, {"server_id": "eu-1"}, format="json")

    assert (taken.status_code, taken.json()["code"]) == (409, "server_id_taken")
    assert (removed.status_code, removed.json()["code"]) == (409, "server_id_taken")
    assert [s["address"] for s in player_client.get(SERVER_INFO).json()] == ["10.0.0.1"]
    assert beat(server_client, "eu-1").status_code == 200  # its own key still beats


@pytest.mark.django_db
def test_a_stale_or_revoked_keys_server_id_is_free_to_take(
    server_client, partner_client, player_client, game
):
    from apps.accounts.models import ServerKey
    from apps.accounts.services.tenancy import revoke_server_key

    beat(server_client, "eu-1")
    beat(server_client, "eu-2")
    RegisteredServer.objects.filter(server_id="eu-1").update(
        last_heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    assert beat(partner_client, "eu-1", address="198.51.100.9").status_code == 200

    revoke_server_key(server_key=ServerKey.objects.get(name="test server"))

    assert beat(partner_client, "eu-2", address="198.51.100.9").status_code == 200
    addresses = {s["server_id"]: s["address"] for s in player_client.get(SERVER_INFO).json()}
    assert addresses == {"eu-1": "198.51.100.9", "eu-2": "198.51.100.9"}
