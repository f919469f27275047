"""Operators type prices in the currency's units (4.99 USD, 500 JPY, 120 gold); the offer keeps
the contract's integer amount (minor units for real money); too many decimals are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.inventory.models import Currency
from apps.shop.forms import OfferAdminForm
from apps.shop.models import Offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


def form(game, **fields) -> OfferAdminForm:
    data = {
        "game": game.pk, "name": "Pack", "position": 0, "active": "on",
        "price_currency": "USD", "real_money": "on", "price": "4.99",
        "contents": '[{"currency": "gold", "quantity": 100}]', **fields,
    }  # fmt: skip
    return OfferAdminForm(data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize(
    ("currency", "price", "stored"),
    [
        ("USD", "4.99", 499),
        ("usd", "10", 1000),
        ("JPY", "500", 500),
        ("EUR", "0.5", 50),
        # ISO 4217 decimals, not a short list of exceptions to two:
        ("HUF", "1000", 100000),
        ("TWD", "30.5", 3050),
        ("KWD", "1.5", 1500),
        ("BHD", "0.125", 125),
        ("XOF", "1000", 1000),
        ("PYG", "5000", 5000),
        ("ISK", "990", 990),
    ],
)
def test_real_money_prices_are_stored_in_minor_units(game, gold, currency, price, stored):
    offer_form = form(game, price_currency=currency, price=price)
    assert offer_form.is_valid(), offer_form.errors
    offer = offer_form.save()
    assert (offer.price_currency, offer.price_amount) == (currency.upper(), stored)


def test_virtual_prices_are_whole_units(game, gold):
    offer_form = form(game, real_money=None, price_currency="gold", price="120")
    assert offer_form.is_valid(), offer_form.errors
    assert offer_form.save().price_amount == 120
    assert "whole units" in str(
        form(game, real_money=None, price_currency="gold", price="1.5").errors
    )


def test_too_many_decimals_are_refused(game, gold):
    assert "JPY has 0 decimals" not in str(form(game, price_currency="JPY", price="5").errors)
    assert "whole units only" in str(form(game, price_currency="JPY", price="5.5").errors)
    assert "USD has 2 decimals" in str(form(game, price="4.999").errors)
    assert "KWD has 3 decimals" in str(form(game, price_currency="KWD", price="1.2345").errors)
    assert "whole units only" in str(form(game, price_currency="XOF", price="10.5").errors)


def test_the_change_page_shows_the_price_in_major_units(client, game, gold):
    operator = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=operator, game=game, role=GameAccess.Role.OPERATOR)
    offer = Offer.objects.create(
        game=game, name="Pack", price_currency="USD", price_amount=499, real_money=True,
        contents=[{"currency": "gold", "quantity": 100}],
    )  # fmt: skip
    client.force_login(operator)
    page = client.get(f"/admin/shop/offer/{offer.pk}/change/")
    assert page.context["adminform"].form.initial["price"] == Decimal("4.99")
    body = page.content.decode()
    assert 'data-gp-contents="1"' in body and "contents-editor.js" in body
    # The price currency suggests the game's currencies and ISO codes.
    assert '<datalist id="gp-price-currencies"><option value="gold"><option value="USD">' in body
    # The row editor's picker knows the game's codes.
    assert "&quot;currency&quot;:[&quot;gold&quot;]" in body


def test_store_product_ids_are_only_for_real_money_offers(game, gold):
    virtual = form(
        game,
        real_money=None,
        price_currency="gold",
        price="120",
        apple_product_id="com.example.gems",
        google_product_id="gems_1",
    )

    assert not virtual.is_valid()
    assert "real money" in str(virtual.errors["apple_product_id"])
    assert "google_product_id" in virtual.errors
    assert form(game, apple_product_id="com.example.gems").is_valid()
