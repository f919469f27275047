"""The admin's structured editors in a real browser (Debian's Chromium, Playwright): contents as
rows with the game's currencies and items, raw JSON one click away, forms that fit the page."""

from __future__ import annotations

import pytest

from apps.accounts.models import GameAccess
from apps.inventory.models import Currency, ItemDefinition
from apps.shop.models import Offer
from tests.panel.conftest import make_user
from tests.panel.test_browser import CHROMIUM, browser, log_in  # noqa: F401 — the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture
def catalog(transactional_db, game, other_game):
    Currency.objects.create(game=game, code="gold", name="Gold")
    ItemDefinition.objects.create(game=game, sku="sword", name="Sword", kind="durable")
    Currency.objects.create(game=other_game, code="zeny", name="Zeny")
    return make_user("oscar", game, GameAccess.Role.OPERATOR)


def test_offer_contents_are_edited_as_rows_and_saved_as_lines(
    browser,  # noqa: F811
    live_server,
    catalog,
    game,
):
    page = log_in(browser, live_server, "oscar")
    page.goto(f"{live_server.url}/admin/shop/offer/add/")
    page.select_option("#id_game", str(game.pk))
    page.fill("#id_name", "Starter pack")
    page.fill("#id_price_currency", "USD")
    page.check("#id_real_money")
    page.fill("#id_price", "4.99")
    assert not page.locator("#id_contents").is_visible()  # rows instead of JSON

    page.click(".gp-contents-add")
    row = page.locator(".gp-contents-row").nth(0)
    codes = row.locator(".gp-code option").all_inner_texts()
    assert "gold" in codes and "zeny" not in codes  # only this game's currencies
    row.locator(".gp-code").select_option("gold")
    row.locator(".gp-quantity").fill("100")
    page.click(".gp-contents-add")
    second = page.locator(".gp-contents-row").nth(1)
    second.locator(".gp-kind").select_option("sku")
    second.locator(".gp-code").select_option("sword")
    second.locator(".gp-quantity").fill("1")

    page.check(".gp-contents-raw input")  # the advanced view shows what will be saved
    assert '"sku":"sword"' in page.locator("#id_contents").input_value()
    page.uncheck(".gp-contents-raw input")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/shop/offer/")

    offer = Offer.objects.get(name="Starter pack")
    assert offer.contents == [
        {"currency": "gold", "quantity": 100},
        {"sku": "sword", "quantity": 1},
    ]
    assert (offer.price_currency, offer.price_amount) == ("USD", 499)


def test_the_event_form_fits_the_page(browser, live_server, catalog):  # noqa: F811
    page = log_in(browser, live_server, "oscar")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/events/event/add/")
    page.click("#rewards-group .add-row a")
    assert page.locator("#rewards-group .gp-contents-add").count() >= 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the form is {overflow}px wider than the window"
