"""An item's properties, as the admin saves them: a JSON object the player's inventory answers
as one, and nothing the database cannot store (an operator's typo is a form error, not a 500)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.inventory.models import ItemDefinition
from apps.inventory.services import Change, apply_changes

pytestmark = pytest.mark.django_db

ADD = "/admin/inventory/itemdefinition/add/"


@pytest.fixture
def operator_client(client, game):
    user = get_user_model().objects.create_user("olga", password="x", is_staff=True)
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def add_item(client, game, properties: str):
    return client.post(
        ADD,
        {"game": game.pk, "sku": "potion", "name": "Potion", "kind": "stackable",
         "max_stack": "", "properties": properties},
    )  # fmt: skip


@pytest.mark.parametrize("properties", ["", "null"])
def test_an_empty_field_or_null_saves_no_properties(operator_client, game, player, properties):
    response = add_item(operator_client, game, properties)

    assert response.status_code == 302  # was a 500: the column is NOT NULL
    item = ItemDefinition.objects.get(game=game, sku="potion")
    assert item.properties == {}


@pytest.mark.parametrize("properties", ["[1, 2]", "5", '"sharp"', "true"])
def test_properties_that_are_not_an_object_are_a_form_error(operator_client, game, properties):
    response = add_item(operator_client, game, properties)

    assert response.status_code == 200
    assert "A JSON object" in response.content.decode()
    assert not ItemDefinition.objects.exists()


@pytest.mark.parametrize(
    ("properties", "says"),
    [
        ('{"name": "a\\u0000b"}', "holds U+0000 or a lone surrogate"),
        ('{"a": ' + "[" * 70 + "]" * 70 + "}", "nests arrays and objects 65 or more levels deep"),
    ],
)
def test_properties_the_database_cannot_store_are_a_form_error(
    operator_client, game, properties, says
):
    response = add_item(operator_client, game, properties)

    assert response.status_code == 200  # U+0000 was a 500 on PostgreSQL
    assert says in response.content.decode()
    assert not ItemDefinition.objects.exists()


def test_the_inventory_answers_the_saved_properties_as_an_object(
    operator_client, player_client, game, player
):
    add_item(operator_client, game, '{"damage": 5}')
    apply_changes(
        player=player, changes=[Change("item", "potion", 1)], reason="t", idempotency_key="k"
    )

    items = player_client.get("/api/v1/player/inventory").json()["items"]

    assert [item["properties"] for item in items] == [{"damage": 5}]
