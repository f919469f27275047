"""An offer line's currency or SKU is a code (text): anything else in an operator's contents is
a form error naming the line, never a 500 (a list or an object could not be looked up, a number
could not be named in the message)."""

from __future__ import annotations

import pytest

from apps.accounts.models import GameAccess
from apps.inventory.models import Currency
from apps.shop.models import Offer

pytestmark = pytest.mark.django_db

ODD_LINES = [
    '[{"currency": ["gold"], "quantity": 1}]',
    '[{"currency": 5, "quantity": 1}]',
    '[{"sku": {"a": 1}, "quantity": 1}]',
    '[{"sku": null, "quantity": 1}]',
    '[{"currency": "", "quantity": 1}]',
    '[{"currency": "gold", "quantity": 1}, {"sku": 7, "quantity": 1}]',
]


@pytest.mark.parametrize("contents", ODD_LINES)
def test_a_line_whose_code_is_not_text_is_a_form_error(client, make_operator, game, contents):
    Currency.objects.create(game=game, code="gold", name="Gold")
    client.force_login(make_operator("olga", game, GameAccess.Role.OPERATOR))

    response = client.post(
        "/admin/shop/offer/add/",
        {
            "game": game.pk,
            "name": "Pack",
            "position": 0,
            "active": "on",
            "price_currency": "gold",
            "price": "10",
            "contents": contents,
            "store_consumable": "on",
        },  # fmt: skip
    )

    assert response.status_code == 200  # the form again, with its error
    errors = response.context["adminform"].form.errors
    assert "currency or sku must be a code (text)" in str(errors["contents"])
    assert not Offer.objects.exists()


def test_a_line_with_a_code_is_saved(client, make_operator, game):
    Currency.objects.create(game=game, code="gold", name="Gold")
    client.force_login(make_operator("olga", game, GameAccess.Role.OPERATOR))

    response = client.post(
        "/admin/shop/offer/add/",
        {
            "game": game.pk,
            "name": "Pack",
            "position": 0,
            "active": "on",
            "price_currency": "gold",
            "price": "10",
            "store_consumable": "on",
            "contents": '[{"currency": "gold", "quantity": 1}]',
        },  # fmt: skip
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Offer.objects.get().contents == [{"currency": "gold", "quantity": 1}]
