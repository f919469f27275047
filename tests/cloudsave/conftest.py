"""Cloud-save calls made with real access tokens, through the whole request pipeline."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Player
from tests.shop.conftest import access_token, bearer

URL = "/api/v1/player/saves"


@pytest.fixture
def alice(player: Player) -> APIClient:
    return bearer(access_token(player))


@pytest.fixture
def bob_player(game) -> Player:
    return Player.objects.create(game=game, display_name="bob")


@pytest.fixture
def bob(bob_player: Player) -> APIClient:
    return bearer(access_token(bob_player))


def put(client: APIClient, key: str, value: object, **headers: Any):
    return client.put(f"{URL}/{key}", {"value": value}, format="json", **headers)


def create(client: APIClient, key: str, value: object, **headers: str):
    return put(client, key, value, HTTP_IF_NONE_MATCH="*", **headers)
