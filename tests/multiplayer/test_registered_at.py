"""registered_at is when a server joined the list under its key: its first beat, or its first
after it went stale or passed to another key; a live server's beats keep it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.services import create_server_key
from apps.multiplayer.models import RegisteredServer
from apps.multiplayer.services.registry import heartbeat

pytestmark = pytest.mark.django_db

BODY = {"region": "eu-west", "address": "10.0.0.1", "port": 7777, "capacity": 16, "players": 0}


@pytest.fixture
def fleets(game):
    return (
        create_server_key(game=game, name="fleet a").server_key,
        create_server_key(game=game, name="fleet b").server_key,
    )


def registered_long_ago(server_id: str, *, last_beat_seconds_ago: float) -> None:
    now = timezone.now()
    RegisteredServer.objects.filter(server_id=server_id).update(
        registered_at=now - timedelta(hours=1),
        last_heartbeat_at=now - timedelta(seconds=last_beat_seconds_ago),
    )


def test_a_live_servers_beats_keep_its_registration_time(game, fleets):
    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)
    registered_long_ago("eu-1", last_beat_seconds_ago=5)

    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)

    server = RegisteredServer.objects.get()
    assert server.last_heartbeat_at - server.registered_at > timedelta(minutes=59)


def test_a_live_server_beating_late_keeps_its_registration_time_and_goes_through(
    game, fleets, settings
):
    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)
    heartbeat(game=game, server_key=fleets[0], server_id="eu-2", **BODY)
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 1  # lowered: the game is past it
    registered_long_ago("eu-1", last_beat_seconds_ago=25)  # live, in the TTL's last third

    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)

    server = RegisteredServer.objects.get(server_id="eu-1")
    assert server.last_heartbeat_at - server.registered_at > timedelta(minutes=59)


def test_a_stale_server_beating_again_registers_anew(game, fleets):
    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)
    registered_long_ago("eu-1", last_beat_seconds_ago=60)

    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)

    server = RegisteredServer.objects.get()
    assert server.registered_at == server.last_heartbeat_at


def test_another_key_taking_over_a_stale_id_registers_it_anew(game, fleets):
    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)
    registered_long_ago("eu-1", last_beat_seconds_ago=60)

    heartbeat(game=game, server_key=fleets[1], server_id="eu-1", **BODY)

    server = RegisteredServer.objects.get()
    assert server.server_key == fleets[1]
    assert server.registered_at == server.last_heartbeat_at


def test_another_key_taking_over_a_revoked_keys_live_id_registers_it_anew(game, fleets):
    heartbeat(game=game, server_key=fleets[0], server_id="eu-1", **BODY)
    registered_long_ago("eu-1", last_beat_seconds_ago=5)
    fleets[0].revoked_at = timezone.now()
    fleets[0].save(update_fields=["revoked_at"])

    heartbeat(game=game, server_key=fleets[1], server_id="eu-1", **BODY)

    server = RegisteredServer.objects.get()
    assert server.server_key == fleets[1]
    assert server.registered_at == server.last_heartbeat_at
