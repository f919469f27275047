from rest_framework.renderers import JSONRenderer

from apps.inventory.api import InventoryApi
from apps.inventory.models import ItemDefinition
from apps.inventory.selectors import get_inventory
from apps.inventory.services import Change, apply_changes
from tests.shop.helpers import make_economy


def test_inventory_lists_every_currency_and_held_items(player_client, player, game):
    make_economy(game)
    apply_changes(
        player=player,
        changes=[Change("currency", "gold", 40), Change("item", "potion", 3)],
        reason="t",
        idempotency_key="k",
    )

    response = player_client.get("/api/v1/player/inventory")

    assert response.status_code == 200
    assert response.json() == {
        "currencies": {"gems": 0, "gold": 40},
        "items": [
            {
                "sku": "potion",
                "name": "Potion",
                "kind": "stackable",
                "quantity": 3,
                "properties": {},
            }
        ],
    }


def test_inventory_read_is_one_query_whatever_its_size(
    player_client, player, game, django_assert_num_queries, django_assert_max_num_queries
):
    make_economy(game)
    for n in range(20):
        ItemDefinition.objects.create(game=game, sku=f"gem-{n}", name=f"Gem {n}")
    apply_changes(
        player=player,
        changes=[Change("item", f"gem-{n}", 1) for n in range(20)],
        reason="t",
        idempotency_key="k",
    )

    apply_changes(
        player=player, changes=[Change("currency", "gold", 7)], reason="t", idempotency_key="g"
    )

    with django_assert_num_queries(1):
        inventory = get_inventory(player=player)
    with django_assert_max_num_queries(2):  # the whole request, pipeline included
        response = player_client.get("/api/v1/player/inventory")

    assert inventory["currencies"] == {"gems": 0, "gold": 7}
    assert [item["sku"] for item in inventory["items"]] == sorted(f"gem-{n}" for n in range(20))
    assert response.json() == inventory


def test_inventory_never_shows_another_games_holdings(
    player_client, other_player, other_game, game
):
    make_economy(game)
    make_economy(other_game)
    apply_changes(
        player=other_player,
        changes=[Change("currency", "gold", 99)],
        reason="t",
        idempotency_key="k",
    )

    body = player_client.get("/api/v1/player/inventory").json()

    assert body == {"currencies": {"gems": 0, "gold": 0}, "items": []}


def test_inventory_needs_a_player(api_client):
    response = api_client.get("/api/v1/player/inventory")

    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


def test_body_bytes_are_what_the_serializer_renders(player_client, player, game):
    # The view answers the selector's dict as it is: the same bytes OutputSerializer would give,
    # nested properties untouched, a spent item gone, a currency without a wallet at 0.
    make_economy(game)
    ItemDefinition.objects.filter(game=game, sku="potion").update(
        properties={"é": {"x": None}, "tags": ["fire"], "tier": 2}
    )
    apply_changes(
        player=player,
        changes=[
            Change("currency", "gold", 40),
            Change("item", "potion", 3),
            Change("item", "sword", 1),
        ],
        reason="t",
        idempotency_key="k",
    )
    apply_changes(
        player=player, changes=[Change("item", "sword", -1)], reason="t", idempotency_key="spend"
    )

    response = player_client.get("/api/v1/player/inventory")

    serialized = InventoryApi.OutputSerializer(get_inventory(player=player)).data
    assert response.content == JSONRenderer().render(serialized)
    assert (
        response.content
        == (
            '{"currencies":{"gems":0,"gold":40},"items":[{"sku":"potion","name":"Potion",'
            '"kind":"stackable","quantity":3,"properties":{"é":{"x":null},"tags":["fire"],"tier":2}}]}'
        ).encode()
    )
