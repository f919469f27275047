"""Purchases take an offer's stock while an operator has its admin page open: saving that page
keeps what they took, and a stock typed over a number that moved meanwhile is asked again."""

from __future__ import annotations

import pytest

from apps.accounts.models import GameAccess
from apps.shop.models import Offer
from apps.shop.services.purchase import purchase_offer
from tests.battlepass.admin_forms import form_as_shown
from tests.panel.conftest import client_for, make_user
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(game):
    return client_for(make_user("op", game, GameAccess.Role.OPERATOR))


@pytest.fixture
def stocked(game, player):
    make_economy(game)
    fund(player, 1000)
    return make_offer(game, stock=100)


def buy(player, offer, times):
    for n in range(times):
        purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=f"b-{n}")


def test_saving_the_page_without_touching_the_stock_keeps_what_purchases_took(
    operator_client, stocked, player
):
    url = f"/admin/shop/offer/{stocked.pk}/change/"
    page = form_as_shown(operator_client, url)  # shows 100 units left
    buy(player, stocked, 3)

    saved = operator_client.post(url, {**page, "name": "Gem pack (fixed typo)"})

    assert saved.status_code == 302
    stocked.refresh_from_db()
    assert (stocked.name, stocked.stock) == ("Gem pack (fixed typo)", 97)


def test_a_stock_typed_over_one_purchases_moved_is_asked_again_with_the_number_now(
    operator_client, stocked, player
):
    url = f"/admin/shop/offer/{stocked.pk}/change/"
    page = form_as_shown(operator_client, url)
    buy(player, stocked, 3)

    refused = operator_client.post(url, {**page, "stock": "150"})

    assert refused.status_code == 200
    form = refused.context["adminform"].form
    assert "from 100 to 97" in str(form.errors["stock"])
    stocked.refresh_from_db()
    assert stocked.stock == 97
    # The page shown again carries 97 as its loaded stock: saving it again sets 150.
    again = operator_client.post(url, {**page, "stock": "150", "initial-stock": "97"})
    assert again.status_code == 302
    stocked.refresh_from_db()
    assert stocked.stock == 150
    assert 'name="initial-stock" value="97"' in refused.content.decode()


def test_a_stock_typed_when_nothing_sold_meanwhile_is_saved(operator_client, stocked):
    url = f"/admin/shop/offer/{stocked.pk}/change/"
    page = form_as_shown(operator_client, url)

    saved = operator_client.post(url, {**page, "stock": "250"})

    assert saved.status_code == 302
    assert Offer.objects.get(pk=stocked.pk).stock == 250
