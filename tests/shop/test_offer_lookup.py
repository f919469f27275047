"""The offer a purchase starts from: one compiled query that loads the offer as the ORM does."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Model
from django.utils import timezone

from apps.shop.models import Offer
from apps.shop.selectors import find_offer
from tests.shop.helpers import make_economy, make_offer


def fields_of(instance: Model) -> dict[str, object]:
    return {
        field.attname: getattr(instance, field.attname) for field in Offer._meta.concrete_fields
    }


def test_the_offer_is_loaded_with_every_field_as_the_orm_loads_it(game, django_assert_num_queries):
    make_economy(game)
    now = timezone.now()
    offer = make_offer(
        game,
        description="Gems, and a sword",
        position=3,
        active=False,
        contents=[{"currency": "gems", "quantity": 10}, {"sku": "sword", "quantity": 1}],
        available_from=now - timedelta(days=1),
        available_until=now + timedelta(days=1),
        per_player_limit=2,
        stock=5,
        apple_product_id="com.example.gems",
        store_consumable=False,
    )

    with django_assert_num_queries(1):
        found = find_offer(game_id=game.pk, offer_id=offer.pk)

    assert found is not None
    assert fields_of(found) == fields_of(Offer.objects.get(pk=offer.pk))
    assert (found.available_until.tzinfo, found.created_at.tzinfo) != (None, None)
    assert found.contents[1] == {"sku": "sword", "quantity": 1}
    assert (found.active, found.store_consumable) == (False, False)
    assert found.category.name == "Main"  # a relation loads as usual


def test_an_open_ended_offer_keeps_its_empty_fields(game):
    make_economy(game)
    offer = make_offer(game)

    found = find_offer(game_id=game.pk, offer_id=offer.pk)

    assert found is not None
    assert fields_of(found) == fields_of(Offer.objects.get(pk=offer.pk))
    assert (found.available_from, found.stock, found.per_player_limit) == (None, None, None)
    assert found.active is True


def test_another_games_offer_or_an_unknown_id_is_none(game, other_game):
    make_economy(game)
    offer = make_offer(game)

    assert find_offer(game_id=other_game.pk, offer_id=offer.pk) is None
    assert find_offer(game_id=game.pk, offer_id=offer.pk + 1000) is None
