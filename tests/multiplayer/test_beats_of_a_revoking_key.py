"""A heartbeat under way as its key is revoked: the revocation takes the key's servers off the
list (test_revoked_key_servers), and a beat authenticated before the revocation reached its
process (the key's mirror hears of it within a moment), or one not yet committed when the
revocation deleted the key's servers, must not put a server back on the list, where players
would be sent to a server that can neither validate their tokens nor post their match."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.accounts import authentication
from apps.accounts.errors import InvalidServerKey
from apps.accounts.models import ServerKey
from apps.accounts.services import create_server_key
from apps.accounts.services.tenancy import revoke_server_key
from apps.multiplayer.models import RegisteredServer
from apps.multiplayer.services.registry import heartbeat
from tests.conftest import in_thread

HEARTBEAT = "/api/v1/multiplayer/servers/heartbeat"
SERVER_INFO = "/api/v1/multiplayer/server-info"


def beat_as(server_key: ServerKey, server_id: str) -> None:
    heartbeat(
        game=server_key.game,
        server_key=server_key,
        server_id=server_id,
        region="eu-west",
        address="198.51.100.9",
        port=7777,
        capacity=16,
        players=0,
    )


@pytest.mark.django_db
def test_a_beat_authenticated_before_the_revocation_was_heard_of_is_401_and_lists_nothing(
    game, api_client, player_client, monkeypatch
):
    issued = create_server_key(game=game, name="leaked")
    api_client.credentials(HTTP_X_SERVER_KEY=issued.raw_key)
    body = {"server_id": "rogue-1", "region": "eu-west", "address": "198.51.100.9", "port": 7777}
    body |= {"capacity": 16, "players": 0}
    assert api_client.post(HEARTBEAT, body, format="json").status_code == 200
    # The key as this process's mirror still holds it, active: the revocation not yet heard of.
    stale = ServerKey.objects.select_related("game").get(pk=issued.server_key.pk)
    revoke_server_key(server_key=issued.server_key)
    monkeypatch.setattr(authentication, "cached_server_key", lambda raw_key: stale)

    refused = api_client.post(HEARTBEAT, body, format="json")

    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_server_key"
    assert not RegisteredServer.objects.exists()
    assert player_client.get(SERVER_INFO).json() == []


@pytest.mark.django_db
def test_a_revoked_keys_first_beat_of_a_new_id_registers_nothing(game):
    issued = create_server_key(game=game, name="leaked")
    stale = ServerKey.objects.get(pk=issued.server_key.pk)
    revoke_server_key(server_key=issued.server_key)

    with pytest.raises(InvalidServerKey):
        beat_as(stale, "rogue-2")

    assert not RegisteredServer.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_revocation_during_a_first_beat_waits_for_it_and_takes_its_server_off(game):
    """The revocation deletes the key's servers as of its statement: a first beat not yet
    committed had a row it could not see, and the server stayed listed under the revoked key
    until its beat went stale. Now the revocation waits for the beat, then deletes its row."""
    issued = create_server_key(game=game, name="leaked")
    other = create_server_key(game=game, name="fleet")
    beat_as(other.server_key, "eu-1")

    def revoke() -> None:
        with transaction.atomic():
            revoke_server_key(server_key=ServerKey.objects.get(pk=issued.server_key.pk))

    with transaction.atomic():
        beat_as(issued.server_key, "rogue-3")
        revoking = in_thread(revoke)
        with pytest.raises(TimeoutError):
            revoking.result(timeout=0.5)  # waits for the beat under way

    revoking.result(timeout=10)
    assert list(RegisteredServer.objects.values_list("server_id", flat=True)) == ["eu-1"]
    assert ServerKey.objects.get(pk=issued.server_key.pk).revoked_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_beat_during_a_revocation_waits_for_it_and_is_refused(game):
    issued = create_server_key(game=game, name="leaked")
    stale = ServerKey.objects.get(pk=issued.server_key.pk)

    def beat_now() -> None:
        beat_as(stale, "rogue-4")

    with transaction.atomic():
        revoke_server_key(server_key=issued.server_key)
        beating = in_thread(beat_now)
        with pytest.raises(TimeoutError):
            beating.result(timeout=0.5)  # waits for the revocation under way

    with pytest.raises(InvalidServerKey):
        beating.result(timeout=10)
    assert not RegisteredServer.objects.exists()
