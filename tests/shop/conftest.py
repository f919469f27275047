"""Purchases made with real access tokens: on PostgreSQL they go through the fast path
(apps/shop/fastpath.py), which a force-authenticated client never reaches."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Player
from apps.accounts.services.sessions import open_session
from apps.shop import fastpath


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


@pytest.fixture(autouse=True)
def _fresh_rate_limit_cache() -> None:
    """Game ids repeat across tests: no game's cached rate limit outlives its test."""
    fastpath._games.clear()
