from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import log_out
from apps.accounts.tokens import decode_access_token, issue_access_token
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
    assert response.json() == {"valid": False, "reason": "invalid_token"}


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


def test_with_the_key_cached_a_validation_costs_no_query(
    tokens, server_client, django_assert_num_queries
):
    server_client.post(VALIDATE, {"token": tokens["access_token"]})  # key cached, markers ready

    with django_assert_num_queries(0):
        again = server_client.post(VALIDATE, {"token": tokens["access_token"]})

    assert again.json()["valid"] is True


@pytest.mark.parametrize("token", ["garbage", "a.b.c.d.e"])
def test_garbage_is_valid_false_invalid_token(server_client, token):
    answers = [server_client.post(VALIDATE, {"token": token}).json() for _ in range(2)]
    assert answers == [{"valid": False, "reason": "invalid_token"}] * 2


def test_another_games_token_is_valid_false_wrong_game(tokens, other_game):
    from apps.accounts.services import create_server_key

    client = bearer("")
    client.credentials(HTTP_X_SERVER_KEY=create_server_key(game=other_game, name="b").raw_key)
    answers = [client.post(VALIDATE, {"token": tokens["access_token"]}).json() for _ in range(2)]
    assert answers == [{"valid": False, "reason": "wrong_game"}] * 2


def test_logout_and_ban_are_seen_at_once_with_the_key_cached(
    tokens, login, server_client, django_capture_on_commit_callbacks
):
    bob = login("bob")
    server_client.post(VALIDATE, {"token": tokens["access_token"]})  # key cached, markers ready
    with django_capture_on_commit_callbacks(execute=True):
        log_out(session_id=decode_access_token(tokens["access_token"]).session_id)
        ban_player(
            player=Player.objects.get(pk=bob["player"]["id"]), reason="x", until=None, actor=None
        )

    logged_out = server_client.post(VALIDATE, {"token": tokens["access_token"]}).json()
    banned = server_client.post(VALIDATE, {"token": bob["access_token"]}).json()

    assert logged_out == {"valid": False, "reason": "token_revoked"}
    assert banned == {"valid": False, "reason": "player_banned"}


def test_a_revoked_server_key_stops_at_once_even_when_cached(
    tokens, api_client, game, django_capture_on_commit_callbacks
):
    from apps.accounts.services import create_server_key, revoke_server_key

    issued = create_server_key(game=game, name="eu-1")
    api_client.credentials(HTTP_X_SERVER_KEY=issued.raw_key)
    assert api_client.post(VALIDATE, {"token": tokens["access_token"]}).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        revoke_server_key(server_key=issued.server_key)

    assert_problem(
        api_client.post(VALIDATE, {"token": tokens["access_token"]}), 401, "invalid_server_key"
    )


def test_a_deleted_players_token_stops_validating_within_the_bound(
    tokens, server_client, monkeypatch
):
    from types import SimpleNamespace

    from apps.accounts.selectors import TOKEN_PLAYER_SECONDS
    from gamingpanel import shortcache

    now = [100.0]
    monkeypatch.setattr(shortcache, "time", SimpleNamespace(monotonic=lambda: now[0]))
    assert server_client.post(VALIDATE, {"token": tokens["access_token"]}).json()["valid"]

    Player.objects.filter(pk=tokens["player"]["id"]).delete()  # its sessions go with it
    now[0] += TOKEN_PLAYER_SECONDS * 1.01

    answer = server_client.post(VALIDATE, {"token": tokens["access_token"]}).json()
    assert answer == {"valid": False, "reason": "invalid_token"}
