"""The catalogue's `available_until` is when the offer stops selling: its own end, or its
category's if the category stops being shown first (an offer in a category not shown is not
sold), so a client's countdown does not promise a sale the shop will refuse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.shop.models import Category
from tests.shop.helpers import make_economy, make_offer

pytestmark = pytest.mark.django_db


def listed_end(buyer_client, offer_id: int) -> str | None:
    listed = buyer_client.get("/api/v1/shop/categories").json()
    (offer,) = [o for category in listed for o in category["offers"] if o["id"] == offer_id]
    return offer["available_until"]


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("offer_ends", "category_ends", "shown"),
    [
        (None, 2, 2),  # the category's end only
        (5, 2, 2),  # the category closes first
        (2, 5, 2),  # the offer ends first
        (3, None, 3),
        (None, None, None),
    ],
)
def test_available_until_is_the_first_of_the_offers_and_its_categorys_end(
    buyer_client, game, offer_ends, category_ends, shown
):
    make_economy(game)
    now = timezone.now().replace(microsecond=0)
    hours = {n: now + timedelta(hours=n) for n in (2, 3, 5)}
    category = Category.objects.create(
        game=game, name="Weekend", visible_until=hours.get(category_ends)
    )
    offer = make_offer(game, category=category, available_until=hours.get(offer_ends))

    ends = listed_end(buyer_client, offer.pk)

    assert ends == (None if shown is None else iso(hours[shown]))


def test_the_admin_preview_shows_the_same_end(client, make_operator, game):
    make_economy(game)
    ends = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    category = Category.objects.create(game=game, name="Weekend", visible_until=ends)
    offer = make_offer(game, category=category)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    page = client.get(f"/admin/shop/offer/{offer.pk}/change/").content.decode()

    assert f"&quot;available_until&quot;: &quot;{ends.isoformat()}&quot;" in page
