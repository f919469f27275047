"""Photon custom authentication: the server key as `key`, the player's access token as `token`
(query parameters, as Photon sends them); the verdict in Photon's shape with a 200, the same
check auth/validate makes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services import create_server_key
from apps.accounts.services.bans import ban_player
from gamingpanel.shortcache import clear_every_cache
from tests.accounts.conftest import bearer

URL = "/api/v1/multiplayer/photon/authenticate"

pytestmark = pytest.mark.django_db


def ask(**query: str):
    return APIClient().get(f"{URL}?{urlencode(query)}")


def test_a_valid_token_joins_as_its_player(tokens, game):
    key = create_server_key(game=game, name="photon").raw_key

    answer = ask(key=key, token=tokens["access_token"])

    assert answer.status_code == 200
    assert answer.json() == {
        "ResultCode": 1,
        "UserId": str(tokens["player"]["id"]),
        "Nickname": "alice",
    }
    posted = APIClient().post(f"{URL}?{urlencode({'key': key, 'token': tokens['access_token']})}")
    assert posted.json()["ResultCode"] == 1  # Photon posts when the client sends AuthPostData


def test_a_refused_token_is_result_2_with_the_reason(
    tokens, game, other_game, django_capture_on_commit_callbacks
):
    key = create_server_key(game=game, name="photon").raw_key
    theirs = create_server_key(game=other_game, name="photon").raw_key
    with django_capture_on_commit_callbacks(execute=True):
        bearer(tokens["access_token"]).post("/api/v1/auth/logout")

    assert ask(key=key, token="nonsense").json() == {"ResultCode": 2, "Message": "invalid_token"}
    assert ask(key=theirs, token=tokens["access_token"]).json()["Message"] == "wrong_game"
    assert ask(key=key, token=tokens["access_token"]).json() == {
        "ResultCode": 2,
        "Message": "token_revoked",
    }


def test_a_banned_player_is_refused(tokens, game, django_capture_on_commit_callbacks):
    key = create_server_key(game=game, name="photon").raw_key
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(
            player=Player.objects.get(pk=tokens["player"]["id"]),
            reason="x",
            until=None,
            actor=None,
        )

    assert ask(key=key, token=tokens["access_token"]).json() == {
        "ResultCode": 2,
        "Message": "player_banned",
    }


def test_no_token_is_result_3_and_a_bad_key_is_the_servers_401(tokens, game):
    key = create_server_key(game=game, name="photon").raw_key

    assert ask(key=key).json()["ResultCode"] == 3
    refused = ask(key="sk_wrong", token=tokens["access_token"])
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_server_key")
    assert ask(token=tokens["access_token"]).status_code == 401  # no key at all


def test_a_ban_not_yet_heard_of_by_the_token_check_is_refused(tokens, game):
    """The ban committed, its revocation not yet heard of (no on-commit hooks ran): the token
    still checks, the profile shows the ban, and Photon is told to refuse the player."""
    key = create_server_key(game=game, name="photon").raw_key
    Player.objects.filter(pk=tokens["player"]["id"]).update(
        banned_until=timezone.now() + timedelta(days=1)
    )
    clear_every_cache()

    assert ask(key=key, token=tokens["access_token"]).json() == {
        "ResultCode": 2,
        "Message": "player_banned",
    }
