"""Revoking a server key takes its servers off the list at once, as if each had deregistered: a
server whose key is revoked can no longer validate a player's token or post a match result, so
players must not be sent to it (it was listed until its last beat went stale)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import create_server_key
from apps.accounts.services.tenancy import revoke_server_key
from apps.audit.models import AuditLogEntry
from apps.multiplayer.models import RegisteredServer
from tests.multiplayer.test_registry import SERVER_INFO, beat

pytestmark = pytest.mark.django_db


def beat_as(raw_key: str, server_id: str, **fields: Any) -> Any:
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=raw_key)
    return beat(client, server_id, **fields)


def test_a_revoked_keys_servers_leave_the_list_at_once_and_the_others_stay(
    game, other_game, player_client
):
    leaked = create_server_key(game=game, name="leaked")
    fleet = create_server_key(game=game, name="fleet")
    elsewhere = create_server_key(game=other_game, name="beta fleet")
    beat_as(leaked.raw_key, "rogue-1", address="198.51.100.9")
    beat_as(leaked.raw_key, "rogue-2", address="198.51.100.9")
    beat_as(fleet.raw_key, "eu-1", address="10.0.0.1")
    beat_as(elsewhere.raw_key, "beta-1", address="10.0.0.2")

    revoke_server_key(server_key=leaked.server_key)

    assert [s["server_id"] for s in player_client.get(SERVER_INFO).json()] == ["eu-1"]
    assert player_client.get(f"{SERVER_INFO}/rogue-1").json()["code"] == "server_not_found"
    assert sorted(RegisteredServer.objects.values_list("server_id", flat=True)) == [
        "beta-1",
        "eu-1",
    ]
    assert AuditLogEntry.objects.filter(action="server_key.revoke").count() == 1


def test_a_revoked_keys_servers_free_their_places_under_the_cap(game, settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 1
    old = create_server_key(game=game, name="old")
    new = create_server_key(game=game, name="new")
    assert beat_as(old.raw_key, "eu-1").status_code == 200

    revoke_server_key(server_key=old.server_key)

    # The new key's first server joins at once, not after the old one's beat goes stale.
    assert beat_as(new.raw_key, "eu-2").status_code == 200


def test_revoking_a_key_again_changes_nothing(game, player_client):
    old = create_server_key(game=game, name="old")
    revoke_server_key(server_key=old.server_key)
    fleet = create_server_key(game=game, name="fleet")
    beat_as(fleet.raw_key, "eu-1")

    revoke_server_key(server_key=old.server_key)

    assert [s["server_id"] for s in player_client.get(SERVER_INFO).json()] == ["eu-1"]
