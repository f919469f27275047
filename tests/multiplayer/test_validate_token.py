"""multiplayer/validate-token answers exactly what auth/validate answers, plus the public profile,
with real access tokens from apps.accounts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import open_session
from apps.stats.services import add_xp

URL = "/api/v1/multiplayer/validate-token"
AUTH_VALIDATE = "/api/v1/auth/validate"


def access_token(player) -> str:
    return open_session(player=player, platform="dev", now=timezone.now()).access_token


@pytest.mark.django_db
def test_valid_token_answers_as_auth_validate_plus_the_public_profile(server_client, game, player):
    add_xp(game_id=game.pk, xp_by_player={player.pk: 2500})
    token = access_token(player)

    response = server_client.post(URL, {"token": token}, format="json")
    plain = server_client.post(AUTH_VALIDATE, {"token": token}, format="json").json()

    assert response.status_code == 200
    body = response.json()
    assert body == plain | {"player": {"display_name": "alice", "level": 3, "banned": False}}
    assert (body["valid"], body["player_id"], body["game_id"]) == (True, player.pk, game.pk)


@pytest.mark.django_db
def test_banned_players_token_is_refused_like_auth_validate(server_client, player):
    token = access_token(player)
    ban_player(
        player=player, reason="cheating", until=timezone.now() + timedelta(days=1), actor=None
    )

    response = server_client.post(URL, {"token": token}, format="json")
    plain = server_client.post(AUTH_VALIDATE, {"token": token}, format="json").json()

    assert response.status_code == 200
    assert response.json() == plain
    assert response.json()["valid"] is False
    assert "player" not in response.json()


@pytest.mark.django_db
def test_garbage_token_is_200_valid_false_without_a_profile(server_client):
    response = server_client.post(URL, {"token": "garbage"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"valid": False, "reason": "invalid_token"}


@pytest.mark.django_db
def test_token_of_another_game_is_not_valid_here(server_client, other_player):
    response = server_client.post(URL, {"token": access_token(other_player)}, format="json")

    assert response.json() == {"valid": False, "reason": "wrong_game"}


@pytest.mark.django_db
def test_missing_token_is_400_validation_error(server_client):
    response = server_client.post(URL, {}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


@pytest.mark.django_db
def test_player_bearer_token_on_validate_token_is_403_wrong_credential_kind(player):
    client = APIClient()
    token = access_token(player)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.post(URL, {"token": token}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")


@pytest.mark.django_db
def test_player_bearer_token_reads_server_info_but_not_match_result(player):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(player)}")

    assert client.get("/api/v1/multiplayer/server-info").status_code == 200
    refused = client.post("/api/v1/multiplayer/match-result", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "wrong_credential_kind")
