from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tokens import issue_access_token
from tests.accounts.conftest import VALIDATE, assert_problem, bearer

pytestmark = pytest.mark.django_db


def test_valid_token_answers_player_game_permissions_and_expiry(tokens, server_client, game):
    response = server_client.post(VALIDATE, {"token": tokens["access_token"]})

    assert response.status_code == 200
    body = response.json()
    assert body.pop("expires_at").endswith("Z")
    assert body == {
        "valid": True,
        "player_id": tokens["player"]["id"],
        "game_id": game.pk,
        "permissions": ["player"],
    }


def test_expired_token_is_not_valid(player, server_client):
    expired = issue_access_token(
        player_id=player.pk,
        game_id=player.game_id,
        session_id=1,
        now=timezone.now() - timedelta(hours=3),
    )
    response = server_client.post(VALIDATE, {"token": expired.token})
    assert response.json() == {"valid": False, "reason": "token_expired"}


def test_garbage_is_not_valid(server_client):
    response = server_client.post(VALIDATE, {"token": "not-a-token"})
    assert response.json() == {"valid": False, "reason": "invalid_token"}


def test_token_for_a_session_that_does_not_exist_is_not_valid(player, server_client):
    made_up = issue_access_token(player_id=player.pk, game_id=player.game_id, session_id=999)
    response = server_client.post(VALIDATE, {"token": made_up.token})
    assert response.json() == {"valid": False, "reason": "token_revoked"}


def test_validate_needs_a_server_key(api_client, tokens):
    response = api_client.post(VALIDATE, {"token": tokens["access_token"]})
    assert_problem(response, 401, "not_authenticated")


def test_validate_refuses_a_player_token_as_caller(tokens):
    response = bearer(tokens["access_token"]).post(VALIDATE, {"token": tokens["access_token"]})
    assert_problem(response, 403, "wrong_credential_kind")


def test_validate_refuses_a_revoked_server_key(tokens, api_client, game):
    from apps.accounts.services import create_server_key, revoke_server_key

    issued = create_server_key(game=game, name="old")
    revoke_server_key(server_key=issued.server_key)
    api_client.credentials(HTTP_X_SERVER_KEY=issued.raw_key)

    response = api_client.post(VALIDATE, {"token": tokens["access_token"]})

    assert_problem(response, 401, "invalid_server_key")


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": ["x"]}, {"token": "x" * 5000}])
def test_malformed_validate_body_is_400(server_client, body):
    assert_problem(server_client.post(VALIDATE, body), 400, "validation_error")
