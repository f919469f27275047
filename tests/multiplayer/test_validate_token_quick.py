"""multiplayer/validate-token's quick path (no DRF) answers byte for byte as its DRF path, and a
valid token costs one query (the profile) once the server key is cached."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import log_out, open_session
from apps.accounts.tokens import decode_access_token
from apps.multiplayer import api
from apps.multiplayer.api import ValidateTokenApi
from apps.stats.models import LevelCurve
from apps.stats.services import add_xp

URL = "/api/v1/multiplayer/validate-token"


def access_token(player, *, now=None) -> str:
    return open_session(player=player, platform="dev", now=now or timezone.now()).access_token


def on_both_paths(client, token: str):
    """The DRF path's response, then the quick path's, both after a first call that caches the
    server key and makes the revocation markers ready (so both read the same state)."""
    client.post(URL, {"token": token}, format="json")
    with mock.patch.object(api, "quick_validate_token", return_value=None):
        full = client.post(URL, {"token": token}, format="json")
    with mock.patch.object(ValidateTokenApi, "post") as drf:
        quick = client.post(URL, {"token": token}, format="json")
    assert drf.call_count == 0, "the quick path did not answer"
    return full, quick


def assert_same(full, quick) -> dict:
    assert (quick.status_code, quick.content) == (full.status_code, full.content)
    assert quick["Content-Type"] == full["Content-Type"]
    assert quick["Allow"] == full["Allow"]
    return quick.json()


@pytest.mark.django_db
def test_a_valid_token_costs_one_query_on_the_quick_path(
    server_client, game, player, django_assert_max_num_queries
):
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=50)
    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})
    token = access_token(player)
    server_client.post(URL, {"token": token}, format="json")  # caches the key, rebuilds markers

    with (
        mock.patch.object(ValidateTokenApi, "post") as drf,
        django_assert_max_num_queries(1),
    ):
        response = server_client.post(URL, {"token": token}, format="json")

    assert drf.call_count == 0
    assert response.json()["player"] == {"display_name": "alice", "level": 3, "banned": False}


@pytest.mark.django_db
def test_paths_agree_on_a_valid_token_with_a_custom_curve_and_unicode_name(
    server_client, game, player
):
    Player.objects.filter(pk=player.pk).update(display_name="Zoë \u2028 ünï")
    LevelCurve.objects.create(game=game, xp_per_level=10, growth_percent=50, max_level=20)
    add_xp(game_id=game.pk, xp_by_player={player.pk: 1000})

    body = assert_same(*on_both_paths(server_client, access_token(player)))

    assert body["valid"] is True and body["player"]["display_name"] == "Zoë \u2028 ünï"


@pytest.mark.django_db
def test_paths_agree_on_a_player_without_progress_on_the_default_curve(server_client, player):
    body = assert_same(*on_both_paths(server_client, access_token(player)))

    assert body["player"] == {"display_name": "alice", "level": 1, "banned": False}


@pytest.mark.django_db
def test_paths_agree_on_a_banned_players_token(
    server_client, player, django_capture_on_commit_callbacks
):
    token = access_token(player)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(
            player=player, reason="cheating", until=timezone.now() + timedelta(days=1), actor=None
        )

    body = assert_same(*on_both_paths(server_client, token))

    assert body == {"valid": False, "reason": "player_banned"}


@pytest.mark.django_db
def test_paths_agree_on_a_ban_whose_sessions_were_not_revoked(server_client, player):
    token = access_token(player)
    Player.objects.filter(pk=player.pk).update(banned_until=timezone.now() + timedelta(days=1))

    body = assert_same(*on_both_paths(server_client, token))

    assert body["valid"] is True and body["player"]["banned"] is True


@pytest.mark.django_db
def test_paths_agree_on_a_revoked_token(server_client, player, django_capture_on_commit_callbacks):
    token = access_token(player)
    with django_capture_on_commit_callbacks(execute=True):
        log_out(session_id=decode_access_token(token).session_id)

    body = assert_same(*on_both_paths(server_client, token))

    assert body == {"valid": False, "reason": "token_revoked"}


@pytest.mark.django_db
def test_paths_agree_on_an_expired_token(server_client, player):
    token = access_token(player, now=timezone.now() - timedelta(days=1))

    body = assert_same(*on_both_paths(server_client, token))

    assert body == {"valid": False, "reason": "token_expired"}


@pytest.mark.django_db
def test_paths_agree_on_a_deleted_player_and_another_games_token(
    server_client, player, other_player
):
    token = access_token(player)
    gone = access_token(other_player)

    assert assert_same(*on_both_paths(server_client, gone)) == {
        "valid": False,
        "reason": "wrong_game",
    }
    Player.objects.filter(pk=player.pk).delete()
    assert assert_same(*on_both_paths(server_client, token)) == {
        "valid": False,
        "reason": "invalid_token",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"token": "x\\u0000y"}', "application/json"),  # DRF's CharField refuses NUL
        ('{"token": "abc", "n": NaN}', "application/json"),  # DRF's strict parser
        ('\ufeff{"token": "abc"}', "application/json"),  # a byte-order mark
        ('{"token": "abc"}', "text/plain"),  # 415
        ('{"token": 123}', "application/json"),
    ],
)
def test_unusual_requests_take_the_drf_path(server_client, player, body, content_type):
    server_client.post(URL, {"token": access_token(player)}, format="json")  # key cached
    with mock.patch.object(
        ValidateTokenApi, "post", autospec=True, side_effect=ValidateTokenApi.post
    ) as drf:
        response = server_client.post(URL, body.encode(), content_type=content_type)

    assert drf.call_count == 1  # request.data is parsed (or refused, 415) inside post
    assert response["Content-Type"] in ("application/problem+json", "application/json")
    assert response.status_code in (200, 400, 415)
    if content_type == "text/plain":
        assert response.status_code == 415
