"""An X-Game-Key no game can have (U+0000, which no column holds, or longer than the column) is
an unknown key, 401 invalid_game_key, without asking the database: never a 500."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import Game
from apps.accounts.selectors import game_by_client_key
from tests.accounts.conftest import LOGIN

pytestmark = pytest.mark.django_db

BODY = {"platform": "dev", "credentials": {"user_id": "alice"}}
PLAY = "https://play.alpha.example"
NO_GAMES_KEYS = ["a\x00", "alpha-client-key\x00", "\x00", "k" * 81]


@pytest.mark.parametrize("key", NO_GAMES_KEYS)
def test_a_login_with_a_game_key_no_game_can_have_is_401(game, dev_platform, key):
    answer = APIClient().post(LOGIN, BODY, format="json", HTTP_X_GAME_KEY=key)

    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_game_key"


@pytest.mark.parametrize("key", NO_GAMES_KEYS)
def test_such_a_key_names_no_game_without_a_query(game, key):
    with CaptureQueriesContext(connection) as queries:
        assert game_by_client_key(key) is None
    assert len(queries) == 0


def test_a_key_as_long_as_the_column_still_names_its_game(game):
    Game.objects.filter(pk=game.pk).update(client_key="k" * 80)

    found = game_by_client_key("k" * 80)

    assert found is not None and found.pk == game.pk


def test_a_cors_request_with_such_a_key_is_refused_not_a_500(game, dev_platform):
    Game.objects.filter(pk=game.pk).update(cors_allowed_origins=PLAY)

    answer = APIClient().post(LOGIN, BODY, format="json", HTTP_X_GAME_KEY="a\x00", HTTP_ORIGIN=PLAY)

    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_game_key"
    assert "Access-Control-Allow-Origin" not in answer
