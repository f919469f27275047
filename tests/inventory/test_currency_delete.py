"""A currency the game's starting grant gives is not deleted: every new player's first login
pays the grant, and would fail with an unknown currency."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import Game, GameAccess
from apps.accounts.services import set_game_access
from apps.inventory.models import Currency
from apps.platforms.models import PlatformCredential
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/inventory/currency/"


def operator_of(game: Game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def gold(game) -> Currency:
    """The game starts every player with 100 gold; no player has logged in yet."""
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    game.starting_grant = {"gold": 100}
    game.save(update_fields=["starting_grant"])
    return gold


def test_deleting_a_granted_currency_is_refused_and_first_logins_still_work(game, gold, api_client):
    PlatformCredential.objects.create(game=game, platform="dev")

    page = operator_of(game).post(f"{CHANGELIST}{gold.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Cannot delete" in html and "starting grant" in html
    assert Currency.objects.filter(pk=gold.pk).exists()
    login = api_client.post(
        "/api/v1/auth/third-party/login",
        {"platform": "dev", "credentials": {"user_id": "alice", "display_name": "Alice"}},
        format="json",
        HTTP_X_GAME_KEY="alpha-client-key",
    )
    assert login.status_code == 200, login.content
    assert balance(game.players.get(), "gold") == 100


def test_bulk_delete_is_refused_when_a_selected_currency_is_granted(game, gold):
    silver = Currency.objects.create(game=game, code="silver", name="Silver")

    page = operator_of(game).post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [gold.pk, silver.pk], "post": "yes"},
    )

    assert page.status_code == 200
    assert "Cannot delete" in page.content.decode()
    assert Currency.objects.filter(game=game).count() == 2


def test_a_currency_not_in_its_own_games_grant_is_deleted(game, other_game):
    # Another game's grant names the same code: not this currency.
    other_game.starting_grant = {"silver": 5}
    other_game.save(update_fields=["starting_grant"])
    single = Currency.objects.create(game=game, code="silver", name="Silver")
    bulk = Currency.objects.create(game=game, code="copper", name="Copper")
    operator = operator_of(game)

    assert operator.post(f"{CHANGELIST}{single.pk}/delete/", {"post": "yes"}).status_code == 302
    response = operator.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [bulk.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert not Currency.objects.filter(game=game).exists()
