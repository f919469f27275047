"""Photon's custom authentication takes the server key as one `key` query parameter: Photon
passes a client's own AuthValues parameters through, so a second `key` is refused rather than
one of the two chosen (a client holding another game's server key would otherwise have that
game's token accepted in this game's Photon app)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import create_server_key
from apps.platforms.models import PlatformCredential
from tests.accounts.conftest import assert_problem

URL = "/api/v1/multiplayer/photon/authenticate"

pytestmark = pytest.mark.django_db


def test_a_second_key_appended_by_the_client_is_refused(login, game, other_game):
    ours = create_server_key(game=game, name="photon").raw_key
    theirs = create_server_key(game=other_game, name="photon").raw_key
    PlatformCredential.objects.create(game=other_game, platform="dev", enabled=True)
    beta_token = login("mallory", game_key="beta-client-key")["access_token"]

    for keys in ([ours, theirs], [theirs, ours], [ours, ours], [ours, ""]):
        query = urlencode([("key", key) for key in keys] + [("token", beta_token)])
        assert_problem(APIClient().get(f"{URL}?{query}"), 401, "invalid_server_key")
        assert_problem(APIClient().post(f"{URL}?{query}"), 401, "invalid_server_key")


def test_one_key_still_answers(login, game):
    ours = create_server_key(game=game, name="photon").raw_key
    token = login("alice")["access_token"]

    answer = APIClient().get(f"{URL}?{urlencode({'key': ours, 'token': token})}")

    assert answer.json()["ResultCode"] == 1
