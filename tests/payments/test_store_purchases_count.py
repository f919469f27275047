"""A store purchase skips the offer rules (the store has charged), but it is a purchase: it
counts towards the player's per-player limit and takes the offer's stock, so a once-per-player
pack bought in the App Store is not listed, nor sold, to that player again."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.db.models import F

from apps.battlepass.models import SeasonPass
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.receipts import redeem_receipt
from tests.payments.test_apple import apple, chain, redeem  # noqa: F401 - fixtures
from tests.payments.test_apple import transaction as signed_transaction
from tests.payments.test_stripe import start
from tests.shop.helpers import balance, premium_pass_offer

pytestmark = pytest.mark.django_db


def test_a_receipt_counts_towards_the_limit_and_takes_the_stock(
    player_client,
    player,
    real_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
    checkout,
):
    Offer.objects.filter(pk=real_offer.pk).update(per_player_limit=1, stock=5)

    assert redeem(player_client, chain.sign(signed_transaction()), real_offer).status_code == 201

    assert OfferPurchaseCount.objects.get(player=player, offer=real_offer).count == 1
    assert Offer.objects.get().stock == 4
    # The shop refuses the pack the player already bought in the store.
    again = start(player_client, real_offer)
    assert again.status_code == 409, again.json()
    assert again.json()["code"] == "purchase_limit_reached"
    assert again.json()["remaining_purchases"] == 0
    assert len(checkout.calls) == 0


def test_a_receipt_past_the_limit_or_the_stock_is_still_granted(
    player_client,
    player,
    real_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    Offer.objects.filter(pk=real_offer.pk).update(per_player_limit=1, stock=1)
    redeem(player_client, chain.sign(signed_transaction()), real_offer)

    second = redeem(
        player_client, chain.sign(signed_transaction(transactionId="2000000124")), real_offer
    )

    assert second.status_code == 201  # charged by the store: owed
    assert Purchase.objects.filter(status="completed").count() == 2
    assert OfferPurchaseCount.objects.get(player=player, offer=real_offer).count == 2
    assert Offer.objects.get().stock == 0  # never below none


def test_a_receipt_replayed_counts_once(
    player_client,
    player,
    real_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    Offer.objects.filter(pk=real_offer.pk).update(per_player_limit=3, stock=5)
    jws = chain.sign(signed_transaction(quantity=2))

    redeem(player_client, jws, real_offer)
    assert redeem(player_client, jws, real_offer).status_code == 200

    assert OfferPurchaseCount.objects.get(player=player, offer=real_offer).count == 2
    assert Offer.objects.get().stock == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_receipt_and_a_purchase_of_one_premium_offer_wait_for_each_other(
    player,
    game,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    season, offer = premium_pass_offer(game)
    Offer.objects.filter(pk=offer.pk).update(stock=5, apple_product_id="com.example.gems100")
    SeasonPass.objects.create(player=player, season=season)
    jws = chain.sign(signed_transaction())
    pass_held = threading.Event()

    def purchase_like() -> None:
        """As `limits.reserve` without a limit: the season pass, then the offer's stock."""
        try:
            with transaction.atomic():
                SeasonPass.objects.select_for_update().get(player=player, season=season)
                pass_held.set()
                time.sleep(0.5)  # the receipt starts meanwhile
                Offer.objects.filter(pk=offer.pk).update(stock=F("stock") - 1)
        finally:
            connection.close()

    def receipt() -> int:
        assert pass_held.wait(5)
        try:
            return redeem_receipt(
                player=player, provider="apple", offer_id=offer.pk, receipt=jws
            ).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        bought, redeemed = pool.submit(purchase_like), pool.submit(receipt)
        bought.result()  # neither is chosen as a deadlock's victim
        assert redeemed.result() == 201

    assert Offer.objects.get().stock == 3
    assert SeasonPass.objects.get(player=player, season=season).premium
    assert balance(player, "gems") == 10
