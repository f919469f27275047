"""What bounds the server registry: a cap on each game's live servers (a heartbeat joining the
list past it is 409 too_many_servers), a bounded server-info list, and the prune of servers
silent for long."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import create_server_key
from apps.multiplayer.models import RegisteredServer
from tests.multiplayer.test_registry import DEREGISTER, SERVER_INFO, beat

pytestmark = pytest.mark.django_db

LISTED_SERVERS = 30  # the cap these tests set: every live server is listed, up to it


def prune_servers(**kwargs) -> int:
    from apps.multiplayer.services.registry import prune_servers as prune

    return prune(**kwargs)


@pytest.fixture
def cap_of_two(settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 2


def go_stale(server_id: str, *, seconds: int = 60) -> None:
    RegisteredServer.objects.filter(server_id=server_id).update(
        last_heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def bulk_live(game, count: int, *, players=lambda n: 0) -> None:
    now = timezone.now()
    RegisteredServer.objects.bulk_create(
        [
            RegisteredServer(
                game=game,
                server_id=f"s{n:05}",
                region="eu",
                address="10.0.0.1",
                port=7777,
                capacity=1000,
                players=players(n),
                registered_at=now,
                last_heartbeat_at=now,
            )
            for n in range(count)
        ]
    )


# --- The cap on live servers ------------------------------------------------------------------


def test_a_new_server_past_the_cap_is_409_too_many_servers_and_registers_nothing(
    server_client, cap_of_two
):
    assert beat(server_client, "eu-1").status_code == 200
    assert beat(server_client, "eu-2").status_code == 200

    refused = beat(server_client, "eu-3")

    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert (body["code"], body["status"], body["limit"]) == ("too_many_servers", 409, 2)
    assert "MULTIPLAYER_MAX_LIVE_SERVERS" in body["detail"]
    assert sorted(RegisteredServer.objects.values_list("server_id", flat=True)) == ["eu-1", "eu-2"]


def test_a_live_servers_beat_always_goes_through_at_the_cap(server_client, cap_of_two):
    beat(server_client, "eu-1")
    beat(server_client, "eu-2")

    again = beat(server_client, "eu-2", players=5)

    assert again.status_code == 200
    assert RegisteredServer.objects.get(server_id="eu-2").players == 5


def test_a_server_gone_stale_frees_its_place_and_joins_again_like_a_new_one(
    server_client, cap_of_two
):
    beat(server_client, "eu-1")
    beat(server_client, "eu-2")
    go_stale("eu-1")

    assert beat(server_client, "eu-3").status_code == 200  # eu-1 is no longer live
    back = beat(server_client, "eu-1")  # joining the list again: eu-2 and eu-3 are live

    assert (back.status_code, back.json()["code"]) == (409, "too_many_servers")
    assert RegisteredServer.objects.get(server_id="eu-1").last_heartbeat_at < timezone.now() - (
        timedelta(seconds=30)
    )


def test_a_deregistered_server_frees_its_place_at_once(server_client, cap_of_two):
    beat(server_client, "eu-1")
    beat(server_client, "eu-2")

    assert server_client.post(DEREGISTER, {"server_id": "eu-1"}, format="json").status_code == 204
    assert beat(server_client, "eu-3").status_code == 200


def test_the_cap_is_per_game(server_client, other_game, cap_of_two):
    other = APIClient()
    other.credentials(HTTP_X_SERVER_KEY=create_server_key(game=other_game, name="b").raw_key)
    beat(other, "eu-1")
    beat(other, "eu-2")

    assert beat(server_client, "eu-1").status_code == 200
    assert beat(server_client, "eu-2").status_code == 200
    assert beat(other, "eu-3").status_code == 409


def test_the_cap_is_a_documented_error_code():
    from tests.conftest import ROOT

    errors = (ROOT / "docs/guide/errors.md").read_text()
    assert '<span id="too_many_servers"></span>`too_many_servers` | 409' in errors


# --- The server-info list is bounded ------------------------------------------------------------


@pytest.fixture
def cap_of_thirty(settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = LISTED_SERVERS


def test_server_info_lists_every_live_server_up_to_the_cap(game, player_client, cap_of_thirty):
    # s00000 has the most free slots, s00000..s00029 are the best candidates (rows inserted
    # past the cap stand for servers registered before the cap was lowered).
    bulk_live(game, LISTED_SERVERS + 20, players=lambda n: n)

    listed = player_client.get(SERVER_INFO).json()

    assert len(listed) == LISTED_SERVERS
    assert [s["server_id"] for s in listed] == [f"s{n:05}" for n in range(LISTED_SERVERS)]


def test_server_info_takes_a_limit_and_never_lists_past_the_cap(game, player_client, cap_of_thirty):
    bulk_live(game, LISTED_SERVERS + 1, players=lambda n: n % 1000)

    two = player_client.get(SERVER_INFO, {"limit": 2}).json()
    most = player_client.get(SERVER_INFO, {"limit": 10_000}).json()
    eu_three = player_client.get(SERVER_INFO, {"limit": 3, "region": "eu"}).json()

    assert [s["server_id"] for s in two] == ["s00000", "s00001"]
    assert len(most) == LISTED_SERVERS
    assert [s["server_id"] for s in eu_three] == ["s00000", "s00001", "s00002"]


@pytest.mark.parametrize("limit", ["0", "x", "-1", "1.5"])
def test_a_limit_out_of_range_is_400(player_client, limit):
    response = player_client.get(SERVER_INFO, {"limit": limit})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "limit" in response.json()["errors"]


def test_an_empty_limit_is_the_default_as_the_other_filters(game, player_client, cap_of_thirty):
    bulk_live(game, LISTED_SERVERS + 1)

    listed = player_client.get(SERVER_INFO, {"limit": "", "region": "", "mode": ""})

    assert listed.status_code == 200
    assert len(listed.json()) == LISTED_SERVERS


def test_one_server_by_id_is_found_whatever_its_place(game, player_client):
    bulk_live(game, LISTED_SERVERS + 5, players=lambda n: n)

    last = player_client.get(f"{SERVER_INFO}/s{LISTED_SERVERS + 4:05}")

    assert last.status_code == 200
    assert last.json()["server_id"] == f"s{LISTED_SERVERS + 4:05}"


# --- Servers silent for long are pruned -------------------------------------------------------


def test_servers_silent_past_the_retention_are_deleted_in_batches(server_client, settings):
    settings.MULTIPLAYER_SERVER_RETENTION_HOURS = 24
    for n in range(5):
        beat(server_client, f"old-{n}")
        go_stale(f"old-{n}", seconds=25 * 3600)
    beat(server_client, "recent-stale")
    go_stale("recent-stale", seconds=23 * 3600)
    beat(server_client, "live")

    assert prune_servers(batch=2) == 5

    assert sorted(RegisteredServer.objects.values_list("server_id", flat=True)) == [
        "live",
        "recent-stale",
    ]
    assert prune_servers() == 0


def test_a_pruned_server_that_beats_again_registers_anew(server_client, player_client):
    beat(server_client, "eu-1")
    go_stale("eu-1", seconds=(django_settings.MULTIPLAYER_SERVER_RETENTION_HOURS + 1) * 3600)
    prune_servers()

    assert beat(server_client, "eu-1").status_code == 200
    assert [s["server_id"] for s in player_client.get(SERVER_INFO).json()] == ["eu-1"]


def test_the_prune_runs_hourly_from_beat_as_a_task(server_client):
    from apps.multiplayer.tasks import prune_servers as prune_task

    entry = django_settings.CELERY_BEAT_SCHEDULE["prune-game-servers"]
    assert entry["task"] == prune_task.name == "apps.multiplayer.tasks.prune_servers"
    assert isinstance(entry["schedule"], crontab)  # fixed time: a beat restart does not skip it
    assert entry["schedule"].hour == set(range(24))
    beat(server_client, "eu-1")
    go_stale("eu-1", seconds=(django_settings.MULTIPLAYER_SERVER_RETENTION_HOURS + 1) * 3600)

    assert prune_task.apply().get() == 1
    assert not RegisteredServer.objects.exists()
