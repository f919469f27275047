"""gamingpanel.sql: compiled reads give the instances the ORM gives, through public field APIs,
and refuse a kind of field they have no load for."""

from datetime import UTC, datetime

import pytest

from apps.analytics.models import DirtyDay
from apps.shop.models import Offer
from gamingpanel.sql import CompiledInstances

OFFER_BY_ID = "SELECT {columns} FROM {offer} WHERE {offer}.id = %s"


def test_a_model_with_a_field_kind_it_cannot_load_is_refused_at_compile_time():
    with pytest.raises(TypeError, match="day"):
        CompiledInstances.compile("SELECT {columns} FROM {t}", DirtyDay, t=DirtyDay)


@pytest.mark.django_db
def test_a_compiled_offer_is_the_orms_offer(game):
    stored = Offer.objects.create(
        game=game,
        name="Bundle",
        price_currency="gold",
        price_amount=10,
        active=False,
        contents=[{"currency": "gems", "quantity": 2}, {"sku": "shard", "quantity": 1}],
        available_until=datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    )
    compiled = CompiledInstances.compile(OFFER_BY_ID, Offer, offer=Offer)

    loaded = compiled.first([stored.pk])
    expected = Offer.objects.get(pk=stored.pk)

    fields = [field.attname for field in Offer._meta.concrete_fields]
    assert {name: getattr(loaded, name) for name in fields} == {
        name: getattr(expected, name) for name in fields
    }
    assert loaded.active is False and loaded.available_until.tzinfo is not None
    assert compiled.first([stored.pk + 1000]) is None
