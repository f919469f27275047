"""A game's own hourly budget (`rate_limit_per_hour`) is empty (the default) or at least 1."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from apps.accounts.models import Game, GameAccess
from apps.accounts.services import set_game_access

pytestmark = pytest.mark.django_db
MIGRATION = import_module("apps.accounts.migrations.0013_game_rate_limit_at_least_one")


def post_game_form(client, game: Game, rate_limit: str):
    owner = get_user_model().objects.create_user("owen", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    form = {
        "name": game.name,
        "slug": game.slug,
        "client_key": game.client_key,
        "sandbox": "on",
        "rate_limit_per_hour": rate_limit,
        "starting_grant": "{}",
    }
    return client.post(f"/admin/accounts/game/{game.pk}/change/", form)


def test_the_admin_refuses_a_budget_of_zero_and_keeps_the_stored_one(client, game):
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=250)

    response = post_game_form(client, game, "0")

    assert response.status_code == 200  # the form again, with its error
    assert "greater than or equal to 1" in response.content.decode()
    game.refresh_from_db()
    assert game.rate_limit_per_hour == 250


@pytest.mark.parametrize(("given", "stored"), [("1", 1), ("", None)])
def test_the_admin_takes_one_or_empty(client, game, given, stored):
    response = post_game_form(client, game, given)

    assert response.status_code == 302, response.content[:2000]
    game.refresh_from_db()
    assert game.rate_limit_per_hour == stored


def test_the_migration_turns_a_stored_zero_into_the_default_it_ran_on(game):
    other = Game.objects.create(name="Other", slug="other", rate_limit_per_hour=40)
    Game.objects.filter(pk=game.pk).update(rate_limit_per_hour=0)

    MIGRATION.zero_means_the_default(apps, None)

    game.refresh_from_db()
    other.refresh_from_db()
    assert game.rate_limit_per_hour is None
    assert other.rate_limit_per_hour == 40
