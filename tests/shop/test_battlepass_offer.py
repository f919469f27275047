"""A premium battle-pass offer: bought with gems, fulfilled by the battle pass's grant_premium."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.battlepass.models import Season, SeasonPass
from tests.shop.helpers import balance, fund, make_economy, make_offer


@pytest.fixture
def premium_offer(game):
    make_economy(game)
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)
    )
    offer = make_offer(
        game,
        price_currency="gems",
        price_amount=80,
        contents=[{"battlepass_premium": season.pk}],
        per_player_limit=1,
    )
    return season, offer


def test_buying_the_premium_offer_grants_the_premium_track(buyer_client, player, premium_offer):
    season, offer = premium_offer
    fund(player, 100, "gems")
    listed = buyer_client.get("/api/v1/shop/categories").json()

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 201
    # One line shape for every grant: the premium pass with its quantity, and the v1 key kept.
    line = {"premium_pass": season.pk, "quantity": 1, "battlepass_premium": season.pk}
    assert response.json()["granted"] == [line]
    assert SeasonPass.objects.get(player=player, season=season).premium is True
    assert balance(player, "gems") == 20
    purchase_id = response.json()["purchase_id"]
    assert buyer_client.get(f"/api/v1/shop/purchases/{purchase_id}").json()["granted"] == [line]
    contents = [o["contents"] for c in listed for o in c["offers"] if o["id"] == offer.pk]
    assert contents == [[line]]


def test_a_premium_line_stored_before_the_one_shape_is_answered_in_it(
    buyer_client, player, premium_offer
):
    from apps.shop.models import Purchase

    season, offer = premium_offer
    fund(player, 100, "gems")
    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )
    Purchase.objects.filter(pk=response.json()["purchase_id"]).update(
        granted=[{"battlepass_premium": season.pk}]  # as purchases stored it before
    )

    listed = buyer_client.get("/api/v1/shop/purchases").json()

    assert listed[0]["granted"] == [
        {"premium_pass": season.pk, "quantity": 1, "battlepass_premium": season.pk}
    ]


def test_premium_offer_is_bought_one_at_a_time(buyer_client, player, premium_offer):
    _, offer = premium_offer
    fund(player, 1000, "gems")

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_quantity"
    assert balance(player, "gems") == 1000
    assert not SeasonPass.objects.filter(premium=True).exists()


def test_premium_for_another_games_season_is_refused_and_nothing_is_debited(
    buyer_client, player, game, other_game
):
    make_economy(game)
    now = timezone.now()
    foreign = Season.objects.create(
        game=other_game, name="B", starts_at=now, ends_at=now + timedelta(days=1)
    )
    offer = make_offer(
        game, price_currency="gems", price_amount=10, contents=[{"battlepass_premium": foreign.pk}]
    )
    fund(player, 100, "gems")

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    # The offer rules refuse it before the purchase starts, as any line that cannot be granted.
    assert (response.status_code, response.json()["code"]) == (503, "contents_unavailable")
    assert balance(player, "gems") == 100
    assert not SeasonPass.objects.exists()


def test_a_premium_pass_already_had_is_not_sold_again(buyer_client, player, premium_offer):
    season, offer = premium_offer
    offer.per_player_limit = None  # the pass itself, not a purchase limit, refuses the second
    offer.save(update_fields=["per_player_limit"])
    fund(player, 200, "gems")

    first = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k2"
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["remaining_purchases"]) == (
        "purchase_limit_reached",
        0,
    )
    assert balance(player, "gems") == 120  # one price only
    assert SeasonPass.objects.get(player=player, season=season).premium is True
