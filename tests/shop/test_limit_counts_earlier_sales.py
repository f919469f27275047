"""A per-player limit counts every purchase the player made of the offer, whenever the limit was
set: a limit added (or lowered) after the offer sold is judged on the earlier sales too, by the
purchase (however the limit was saved), by the catalogue (once the admin saved it) and by a
store receipt; two purchases at once still pass it once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from apps.accounts.models import GameAccess
from apps.shop.errors import PurchaseLimitReached
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.fulfilment import close_unpaid, fulfil_purchase, refund_purchase
from apps.shop.services.limits import count_store_purchase
from apps.shop.services.purchase import purchase_offer, record_store_purchase
from gamingpanel.shortcache import clear_every_cache
from tests.battlepass.admin_forms import form_as_shown
from tests.panel.conftest import client_for, make_user
from tests.shop.conftest import access_token, bearer
from tests.shop.helpers import fund, make_economy, make_offer, start_purchase


def buy(player, offer, key: str, quantity: int = 1):
    return purchase_offer(player=player, offer_id=offer.pk, quantity=quantity, idempotency_key=key)


@pytest.fixture
def sold_twice(game, player):
    """An offer with no limit, bought twice by `player`."""
    make_economy(game)
    fund(player, 10_000)
    offer = make_offer(game)
    assert buy(player, offer, "a").status_code == 201
    assert buy(player, offer, "b").status_code == 201
    return offer


@pytest.mark.django_db
def test_a_limit_added_after_sales_counts_them(player, sold_twice):
    Offer.objects.filter(pk=sold_twice.pk).update(per_player_limit=2)  # however it is saved

    with pytest.raises(PurchaseLimitReached) as refused:
        buy(player, sold_twice, "c")

    assert refused.value.extra["remaining_purchases"] == 0
    assert Purchase.objects.filter(offer=sold_twice, status="completed").count() == 2


@pytest.mark.django_db
def test_a_limit_added_after_sales_leaves_what_is_left(player, sold_twice):
    Offer.objects.filter(pk=sold_twice.pk).update(per_player_limit=3)

    with pytest.raises(PurchaseLimitReached) as refused:
        buy(player, sold_twice, "two", quantity=2)
    assert refused.value.extra["remaining_purchases"] == 1
    assert buy(player, sold_twice, "one").status_code == 201

    assert OfferPurchaseCount.objects.get(player=player, offer=sold_twice).count == 3
    with pytest.raises(PurchaseLimitReached):
        buy(player, sold_twice, "more")


@pytest.mark.django_db
def test_a_lowered_limit_counts_every_earlier_sale(player, sold_twice):
    Offer.objects.filter(pk=sold_twice.pk).update(per_player_limit=5)
    assert buy(player, sold_twice, "c").status_code == 201
    Offer.objects.filter(pk=sold_twice.pk).update(per_player_limit=3)

    with pytest.raises(PurchaseLimitReached) as refused:
        buy(player, sold_twice, "d")

    assert refused.value.extra["remaining_purchases"] == 0


@pytest.mark.django_db
def test_other_players_and_other_offers_do_not_count(player, game, sold_twice):
    other = make_offer(game, name="Other pack")
    Offer.objects.filter(pk__in=[sold_twice.pk, other.pk]).update(per_player_limit=1)

    assert buy(player, other, "other").status_code == 201  # the other offer's sales are its own


@pytest.mark.django_db
def test_refused_and_ended_purchases_do_not_count_and_paid_ones_do(player, game):
    make_economy(game)
    offer = make_offer(game, real_money=True, price_currency="USD", price_amount=199)
    paid = start_purchase(player, offer, "paid")
    fulfil_purchase(purchase_id=paid.pk)
    refunded = start_purchase(player, offer, "refunded")
    fulfil_purchase(purchase_id=refunded.pk)
    refund_purchase(purchase_id=refunded.pk, kind="refund")  # a refund frees no slot
    expired = start_purchase(player, offer, "expired")
    close_unpaid(purchase_id=expired.pk, status=Purchase.Status.EXPIRED)
    Offer.objects.filter(pk=offer.pk).update(per_player_limit=3)

    start_purchase(player, offer, "third")  # completed, refunded: 2 counted; this is the 3rd

    assert OfferPurchaseCount.objects.get(player=player, offer=offer).count == 3
    with pytest.raises(PurchaseLimitReached):
        start_purchase(player, offer, "fourth")


@pytest.mark.django_db
def test_a_store_purchase_after_a_limit_was_added_counts_the_earlier_sales(player, game):
    make_economy(game)
    offer = make_offer(game, real_money=True, price_currency="USD", price_amount=199)
    fulfil_purchase(purchase_id=start_purchase(player, offer, "earlier").pk)
    stale = Offer.objects.get(pk=offer.pk)  # the receipt read the offer before the limit came
    Offer.objects.filter(pk=offer.pk).update(per_player_limit=5)

    with transaction.atomic():
        receipt = record_store_purchase(
            player=player, offer=stale, provider="apple", key="apple\u00a7t1", quantity=2
        )
        count_store_purchase(player=player, offer=stale, purchase_id=receipt.pk, quantity=2)

    assert OfferPurchaseCount.objects.get(player=player, offer=offer).count == 3


@pytest.mark.django_db
def test_the_catalogue_counts_earlier_sales_once_the_admin_adds_a_limit(game, player, sold_twice):
    operator = client_for(make_user("op", game, GameAccess.Role.OPERATOR))
    url = f"/admin/shop/offer/{sold_twice.pk}/change/"
    page = form_as_shown(operator, url)
    client = bearer(access_token(player))

    saved = operator.post(url, {**page, "per_player_limit": "3"})
    listed = client.get("/api/v1/shop/categories").json()

    assert saved.status_code == 302
    offers = {offer["id"]: offer for category in listed for offer in category["offers"]}
    assert offers[sold_twice.pk]["remaining_purchases"] == 1
    operator.post(url, {**form_as_shown(operator, url), "per_player_limit": "2"})
    clear_every_cache()  # the catalogue is kept 2 s per process
    listed = client.get("/api/v1/shop/categories").json()
    assert sold_twice.pk not in {offer["id"] for category in listed for offer in category["offers"]}


def post_purchase(token: str, offer_id: int, key: str) -> tuple[int, dict]:
    try:
        response = bearer(token).post(
            "/api/v1/shop/purchase", {"offer_id": offer_id}, HTTP_IDEMPOTENCY_KEY=key
        )
        return response.status_code, response.json()
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("buyers", [2, 8])
def test_purchases_at_once_after_a_limit_was_added_pass_it_once(player, sold_twice, buyers):
    Offer.objects.filter(pk=sold_twice.pk).update(per_player_limit=3)  # one left
    token = access_token(player)

    with ThreadPoolExecutor(buyers) as pool:
        results = list(
            pool.map(lambda n: post_purchase(token, sold_twice.pk, f"race-{n}"), range(buyers))
        )

    assert sorted(status for status, _ in results) == [201] + [409] * (buyers - 1)
    assert {body["code"] for status, body in results if status == 409} == {"purchase_limit_reached"}
    assert Purchase.objects.filter(offer=sold_twice, status="completed").count() == 3
    assert OfferPurchaseCount.objects.get(player=player, offer=sold_twice).count == 3


@pytest.mark.django_db
def test_a_limit_removed_and_set_again_in_the_admin_counts_the_sales_in_between(
    game, player, sold_twice
):
    operator = client_for(make_user("op", game, GameAccess.Role.OPERATOR))
    url = f"/admin/shop/offer/{sold_twice.pk}/change/"
    operator.post(url, {**form_as_shown(operator, url), "per_player_limit": "5"})
    assert buy(player, sold_twice, "c").status_code == 201  # counted: 3
    operator.post(url, {**form_as_shown(operator, url), "per_player_limit": ""})
    assert buy(player, sold_twice, "d").status_code == 201  # no limit: 4 bought

    saved = operator.post(url, {**form_as_shown(operator, url), "per_player_limit": "4"})

    assert saved.status_code == 302
    assert OfferPurchaseCount.objects.get(player=player, offer=sold_twice).count == 4
    with pytest.raises(PurchaseLimitReached):
        buy(player, sold_twice, "e")
