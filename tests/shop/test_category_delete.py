"""A category is not deleted while it holds offers: its offers would fall into no category,
where only their own window is judged, and a switched-off category's offers would sell again."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import Game, GameAccess
from apps.accounts.services import set_game_access
from apps.shop.models import Category, Offer
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/shop/category/"


def operator_of(game: Game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hidden_offer(game, player) -> Offer:
    """An offer in a switched-off category, and a player who could pay for it."""
    make_economy(game)
    halloween = Category.objects.create(game=game, name="Halloween", active=False)
    fund(player, 100)
    return make_offer(game, name="Pumpkin", price_amount=1, category=halloween)


def buy(player_client, offer: Offer, key: str):
    return player_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY=key
    )


def test_deleting_a_category_with_offers_is_refused_and_they_stay_off_sale(
    game, hidden_offer, player_client
):
    category = hidden_offer.category
    assert buy(player_client, hidden_offer, "before").json()["code"] == "offer_unavailable"

    page = operator_of(game).post(f"{CHANGELIST}{category.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Cannot delete" in html and "1 offer(s) in" in html
    assert Category.objects.filter(pk=category.pk).exists()
    response = buy(player_client, hidden_offer, "after")
    assert response.status_code == 409
    assert response.json()["code"] == "offer_unavailable"


def test_bulk_delete_is_refused_when_a_selected_category_holds_offers(
    game, hidden_offer, player_client
):
    empty = Category.objects.create(game=game, name="Empty")
    before = Category.objects.filter(game=game).count()

    page = operator_of(game).post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [hidden_offer.category_id, empty.pk],
            "post": "yes",
        },
    )

    assert page.status_code == 200
    assert "Cannot delete" in page.content.decode()
    assert Category.objects.filter(game=game).count() == before
    assert buy(player_client, hidden_offer, "after").json()["code"] == "offer_unavailable"


def test_an_empty_category_is_deleted(game):
    single = Category.objects.create(game=game, name="Single")
    bulk = Category.objects.create(game=game, name="Bulk")
    operator = operator_of(game)

    assert operator.post(f"{CHANGELIST}{single.pk}/delete/", {"post": "yes"}).status_code == 302
    response = operator.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [bulk.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert not Category.objects.filter(game=game).exists()
