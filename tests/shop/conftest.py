"""Purchases made with real access tokens, through the whole request pipeline (token check,
revocation, rate-limit budget) as a game client calls, not a force-authenticated client."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
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
