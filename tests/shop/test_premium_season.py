"""A premium battle-pass line names a season of the offer's game that has not ended: refused when
the offer is saved, and kept off the catalogue and off sale (before any charge) when its season
ended, or went, after the offer was saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.battlepass.models import Season, SeasonPass
from apps.payments.models import Payment
from apps.shop.models import Offer, Purchase
from apps.shop.validation import validate_offer
from tests.shop.helpers import balance, fund, make_economy, make_offer

pytestmark = pytest.mark.django_db


def make_season(game, *, starts_in: timedelta, lasts: timedelta = timedelta(days=30)) -> Season:
    start = timezone.now() + starts_in
    return Season.objects.create(game=game, name="S", starts_at=start, ends_at=start + lasts)


def premium_offer(game, season_id: int, **fields) -> Offer:
    values = {"price_currency": "gems", "price_amount": 80, "contents": []}
    offer = make_offer(game, **(values | fields))
    offer.contents = [{"battlepass_premium": season_id}]
    return offer


def test_validation_refuses_a_season_of_another_game_none_or_one_that_ended(game, other_game):
    make_economy(game)
    theirs = make_season(other_game, starts_in=timedelta(days=-1))
    ended = make_season(game, starts_in=timedelta(days=-40))
    missing = ended.pk + theirs.pk + 100

    for season_id in (theirs.pk, missing, ended.pk):
        errors = validate_offer(premium_offer(game, season_id))
        assert "contents" in errors, season_id
    with pytest.raises(ValidationError):
        premium_offer(game, missing).full_clean()


def test_validation_accepts_a_running_or_coming_season_of_the_game(game):
    make_economy(game)
    running = make_season(game, starts_in=timedelta(days=-1))
    coming = make_season(game, starts_in=timedelta(days=40))

    assert validate_offer(premium_offer(game, running.pk)) == {}
    assert validate_offer(premium_offer(game, coming.pk)) == {}


def test_an_inactive_offer_of_an_ended_season_may_still_be_edited(game):
    make_economy(game)
    ended = make_season(game, starts_in=timedelta(days=-40))

    assert validate_offer(premium_offer(game, ended.pk, active=False)) == {}


def test_a_season_id_past_bigint_is_a_shape_error_not_a_crash(game):
    make_economy(game)

    errors = validate_offer(premium_offer(game, 2**70))

    assert errors["contents"] == ["Line 1: battlepass_premium takes a season id only."]


@pytest.mark.parametrize("case", ["ended", "deleted", "other_game"])
def test_an_offer_whose_season_ended_since_it_was_saved_is_unlisted_and_not_sold(
    buyer_client, player, game, other_game, case
):
    make_economy(game)
    season = make_season(game, starts_in=timedelta(days=-1))
    offer = premium_offer(game, season.pk)
    offer.save()  # valid when saved
    if case == "ended":
        Season.objects.filter(pk=season.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    elif case == "deleted":
        season.delete()
    else:
        theirs = make_season(other_game, starts_in=timedelta(days=-1))
        Offer.objects.filter(pk=offer.pk).update(contents=[{"battlepass_premium": theirs.pk}])
    fund(player, 100, "gems")

    listed = buyer_client.get("/api/v1/shop/categories").json()
    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert listed == []
    assert (response.status_code, response.json()["code"]) == (503, "contents_unavailable")
    assert balance(player, "gems") == 100
    assert not Purchase.objects.exists()
    assert not SeasonPass.objects.filter(premium=True).exists()


def test_a_real_money_offer_of_an_ended_season_is_refused_before_any_charge(
    buyer_client, player, game
):
    make_economy(game)
    season = make_season(game, starts_in=timedelta(days=-1))
    offer = premium_offer(game, season.pk, real_money=True, price_currency="USD", price_amount=499)
    offer.save()
    Season.objects.filter(pk=season.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert (response.status_code, response.json()["code"]) == (503, "contents_unavailable")
    assert not Purchase.objects.exists()
    assert not Payment.objects.exists()


def test_an_offer_of_a_running_season_is_listed_and_sold(buyer_client, player, game):
    make_economy(game)
    season = make_season(game, starts_in=timedelta(days=-1))
    offer = premium_offer(game, season.pk)
    offer.save()
    fund(player, 100, "gems")

    listed = buyer_client.get("/api/v1/shop/categories").json()
    response = buyer_client.post(
        "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert [o["id"] for c in listed for o in c["offers"]] == [offer.pk]
    assert response.status_code == 201
    assert SeasonPass.objects.get(player=player, season=season).premium is True
