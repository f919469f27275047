"""Purchases made with real access tokens, through the whole request pipeline (token check,
revocation, rate-limit budget) as a game client calls, not a force-authenticated client."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services import set_game_access
from apps.accounts.services.sessions import open_session


def access_token(player: Player) -> str:
    return open_session(player=player, platform="dev", now=timezone.now()).access_token


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def buyer_client(player: Player) -> APIClient:
    """`player` with a real access token, as a game client calls."""
    return bearer(access_token(player))


@pytest.fixture
def make_operator(db):
    """make_operator(username, game, role): a panel user with that role in that game."""

    def make(username, game, role):
        user = get_user_model().objects.create_user(username=username, password="pw-long-enough-1")
        set_game_access(user=user, game=game, role=role)
        return user

    return make
