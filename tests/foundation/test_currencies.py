"""One table of ISO 4217 decimals: what the offer form stores, the dashboards show and the
migration of stored prices assume."""

from decimal import Decimal
from importlib import import_module

import pytest

from apps.panel.templatetags.panel import money
from gamingpanel.currencies import minor_units, to_major, to_minor


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [("USD", 2), ("eur", 2), ("JPY", 0), ("HUF", 2), ("TWD", 2), ("ISK", 0), ("KWD", 3),
     ("XOF", 0), ("MGA", 2), ("CLF", 4), ("UGX", 0)],
)  # fmt: skip
def test_decimals_are_iso_4217s(currency, decimals):
    assert minor_units(currency) == decimals
    assert to_minor(to_major(1234567, currency), currency) == 1234567


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (499, "USD", "4.99 USD"),
        (500, "JPY", "500 JPY"),
        (1500, "KWD", "1.500 KWD"),
        (100000, "HUF", "1,000.00 HUF"),
        (2500.5, "USD", "25.00 USD"),  # an average: rounded to the currency's decimals
        (120, "gold", "120 gold"),  # a virtual currency counts whole units
    ],
)
def test_the_panel_shows_amounts_in_the_currencys_units(amount, currency, shown):
    assert money(amount, currency) == shown


def test_stored_real_money_prices_are_rescaled_to_mean_what_was_typed():
    migration = import_module("apps.shop.migrations.0005_offer_prices_in_iso_minor_units")

    # typed 1000 HUF: stored 1000 before (no decimals), 100000 now
    assert migration.shift_of("HUF") == 2
    assert migration.shift_of("kwd") == 1  # 1.5 KWD: 150 before, 1500 now
    assert migration.shift_of("XOF") == -2  # 1000 XOF: 100000 before, 1000 now
    assert migration.shift_of("USD") == migration.shift_of("JPY") == migration.shift_of("ISK") == 0
    for code, units in migration.ISO_MINOR_UNITS.items():
        assert minor_units(code) == units  # the frozen copy is today's table
    assert Decimal(150).scaleb(migration.shift_of("KWD")) == 1500


@pytest.mark.django_db
def test_the_migration_rescales_real_money_offers_only(game):
    from django.apps import apps

    from tests.shop.helpers import make_offer

    migration = import_module("apps.shop.migrations.0005_offer_prices_in_iso_minor_units")
    huf = make_offer(game, real_money=True, price_currency="HUF", price_amount=1000)
    kwd = make_offer(game, real_money=True, price_currency="KWD", price_amount=150)
    xof = make_offer(game, real_money=True, price_currency="XOF", price_amount=100050)
    usd = make_offer(game, real_money=True, price_currency="USD", price_amount=499)
    gold = make_offer(game, price_currency="HUF", price_amount=7)  # a virtual currency's code

    migration.rescale(apps, None, direction=1)

    prices = {
        offer: type(offer).objects.get(pk=offer.pk).price_amount
        for offer in (huf, kwd, xof, usd, gold)
    }
    assert [prices[o] for o in (huf, kwd, xof, usd, gold)] == [100000, 1500, 1001, 499, 7]
