from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import Game, GameAccess
from apps.accounts.services import set_game_access
from apps.panel import tasks

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """Logging in is not what these tests measure: hash test passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, game: Game | None, role: str | None) -> object:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if game is not None:
        set_game_access(user=user, game=game, role=role)
    return user


@pytest.fixture
def owner(game):
    return make_user("olivia", game, GameAccess.Role.OWNER)


@pytest.fixture
def operator(game):
    return make_user("oscar", game, GameAccess.Role.OPERATOR)


@pytest.fixture
def analyst(game):
    return make_user("anna", game, GameAccess.Role.ANALYST)


@pytest.fixture
def other_operator(other_game):
    """Operates game B only."""
    return make_user("bob", other_game, GameAccess.Role.OPERATOR)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator_client(operator) -> Client:
    return client_for(operator)


@pytest.fixture
def analyst_client(analyst) -> Client:
    return client_for(analyst)


@pytest.fixture
def owner_client(owner) -> Client:
    return client_for(owner)


@pytest.fixture
def broker_down(monkeypatch):
    """Queueing a segment action's run fails, as with the broker unreachable."""

    def unreachable(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.run_segment_action, "delay", unreachable)
