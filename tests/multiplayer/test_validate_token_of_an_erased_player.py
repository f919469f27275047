"""multiplayer/validate-token (and Photon's custom authentication) for a player whose account was
erased: never `valid`, not even in the moment before the erasure's revocation of their sessions
reaches this process, while the token check's copy of the player (kept up to a second) is from
before the erasure."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.accounts.services.sessions import open_session
from apps.multiplayer.selectors import _profiles

URL = "/api/v1/multiplayer/validate-token"
PHOTON = "/api/v1/multiplayer/photon/authenticate"

pytestmark = pytest.mark.django_db


def access_token(player: Player) -> str:
    return open_session(player=player, platform="dev", now=timezone.now()).access_token


def test_an_erased_players_token_is_not_valid(server_client, player):
    token = access_token(player)
    erase_player(player=player, actor=None)

    body = server_client.post(URL, {"token": token}, format="json").json()

    assert body["valid"] is False and "player" not in body


def test_an_erasure_not_yet_heard_of_by_the_token_check_is_refused_from_the_profile(
    server_client, player
):
    """The token check's copy of the player is from before the erasure and its sessions'
    revocation has not reached this process; the profile, read after the erasure, is its
    tombstone: the answer is not valid (a server admitting on `valid` let the erased account
    in, with an empty name)."""
    token = access_token(player)
    assert server_client.post(URL, {"token": token}, format="json").json()["valid"] is True
    # The erasure as stored, its revocation not yet heard of; only the profile read again.
    Player.objects.filter(pk=player.pk).update(erased_at=timezone.now(), display_name="")
    _profiles.clear()

    body = server_client.post(URL, {"token": token}, format="json").json()

    assert body == {"valid": False, "reason": "token_revoked"}  # as once it is heard of


def test_photon_refuses_an_erasure_not_yet_heard_of(server_key, player):
    token = access_token(player)
    client = APIClient()
    assert client.get(PHOTON, {"key": server_key, "token": token}).json()["ResultCode"] == 1
    Player.objects.filter(pk=player.pk).update(erased_at=timezone.now(), display_name="")
    _profiles.clear()

    answer = client.get(PHOTON, {"key": server_key, "token": token}).json()

    assert answer == {"ResultCode": 2, "Message": "token_revoked"}
