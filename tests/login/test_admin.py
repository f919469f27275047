import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.inventory.models import Currency
from apps.login.admin import StartingGrantGameForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("grant", "accepted"),
    [
        ({"gold": 100}, True),
        ({"gold": 1000}, True),
        ({"gold": 1001}, False),  # more than the cap
        ({"gems": 2**63 - 1}, True),  # no cap: the column's range
        ({"gems": 2**63}, False),  # past it every first login would be refused
        ({}, True),
        ({"silver": 5}, False),  # no such currency
        ({"gold": -1}, False),
        (["gold"], False),
    ],
)
def test_starting_grant_is_checked_in_the_game_form(game, grant, accepted):
    Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)
    Currency.objects.create(game=game, code="gems", name="Gems")  # no cap
    data = {"name": game.name, "slug": game.slug, "client_key": game.client_key, "sandbox": True}
    form = StartingGrantGameForm({**data, "starting_grant": json.dumps(grant)}, instance=game)

    assert form.is_valid() is accepted, form.errors


def test_the_admins_game_page_refuses_a_grant_of_an_unknown_currency(client, game):
    owner = get_user_model().objects.create_user("owen", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    form = {
        "name": game.name,
        "slug": game.slug,
        "client_key": game.client_key,
        "sandbox": "on",
        "rate_limit_per_hour": "250",
        "starting_grant": '{"gems": 5}',
    }

    response = client.post(f"/admin/accounts/game/{game.pk}/change/", form)

    assert response.status_code == 200
    assert b"This game has no currency gems." in response.content
    game.refresh_from_db()
    assert game.starting_grant in ({}, None)


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"code": "coins"}, "code"),  # a rename (no currency's code changes once saved)
        ({"cap": 99}, "cap"),  # below the grant
        ({"cap": 100, "name": "Gold coins"}, None),
    ],
)
def test_a_currency_the_starting_grant_gives_keeps_its_code_and_room_for_it(game, change, refused):
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    game.starting_grant = {"gold": 100}
    game.save(update_fields=["starting_grant"])
    for name, value in change.items():
        setattr(gold, name, value)

    if refused is None:
        gold.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            gold.full_clean()
        assert list(error.value.message_dict) == [refused]


def test_the_currency_page_refuses_a_cap_below_the_starting_grant(client, game):
    owner = get_user_model().objects.create_user("owen", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    game.starting_grant = {"gold": 100}
    game.save(update_fields=["starting_grant"])

    response = client.post(
        f"/admin/inventory/currency/{gold.pk}/change/",
        {"game": game.pk, "code": "gold", "name": "Gold", "cap": "50"},
    )

    assert response.status_code == 200
    assert b"a cap below it would refuse every new player" in response.content
    assert Currency.objects.get(pk=gold.pk).cap is None
