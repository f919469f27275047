"""A store purchase takes a limit slot and stock as a checkout does (`count_store_purchase`), so
its refund follows the shop's rule: one refunded before it was granted (contents the player
could not hold, left unacknowledged, which Google refunds) gives back what it took; one refunded
after its grant keeps both, as a refunded shop purchase does."""

from __future__ import annotations

import pytest

from apps.inventory.services import Change, apply_changes
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.fulfilment import refund_purchase
from apps.shop.services.limits import limit_saved
from tests.payments.conftest import committed, mocked_http, real_offer  # noqa: F401 - fixtures
from tests.payments.test_apple import apple, chain, redeem  # noqa: F401 - fixtures
from tests.payments.test_apple import transaction as signed_transaction
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    RTDN_TOKEN,
    VOIDED_ENTRY,
    google,
    play,
    purchase_state,
    rtdn,
    service_key,
    voided_list,
)
from tests.payments.test_google_play import redeem as google_redeem
from tests.payments.test_google_play_ungranted import a_sword_already_held, store  # noqa: F401
from tests.shop.helpers import make_economy, make_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sword_offer(game):
    """A real-money once-per-player sword (durable: a player who holds one cannot get two)."""
    make_economy(game)
    return make_offer(
        game,
        name="Sword",
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"sku": "sword", "quantity": 1}],
        apple_product_id="com.example.gems100",
        per_player_limit=1,
        stock=5,
    )


def hold_a_sword(player) -> None:
    apply_changes(
        player=player,
        changes=[Change("item", "sword", 1)],
        reason="test",
        idempotency_key="sword",
    )


def count(player, offer) -> int:
    return OfferPurchaseCount.objects.get(player=player, offer=offer).count


def test_a_store_purchase_refunded_before_its_grant_gives_back_its_slot_and_stock(
    player_client,
    player,
    sword_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    hold_a_sword(player)
    response = redeem(player_client, chain.sign(signed_transaction()), sword_offer)
    assert response.status_code == 202, response.content  # paid, not granted: flagged
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("pending", True)
    assert (purchase.reserved_slots, purchase.reserved_stock) == (1, 1)
    assert count(player, sword_offer) == 1
    assert Offer.objects.get().stock == 4

    refund_purchase(purchase_id=purchase.pk, kind="refund", note="voided by Google Play")

    assert Purchase.objects.get().status == "refunded"
    assert count(player, sword_offer) == 0
    assert Offer.objects.get().stock == 5
    # Once: a second notification of the refund gives nothing back again.
    refund_purchase(purchase_id=purchase.pk, kind="refund")
    assert count(player, sword_offer) == 0
    assert Offer.objects.get().stock == 5


def test_a_store_purchase_refunded_after_its_grant_keeps_its_slot_and_stock(
    player_client,
    player,
    sword_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    assert redeem(player_client, chain.sign(signed_transaction()), sword_offer).status_code == 201
    purchase = Purchase.objects.get()

    refund_purchase(purchase_id=purchase.pk, kind="refund")

    assert Purchase.objects.get().status == "refunded"
    assert count(player, sword_offer) == 1  # as a refunded shop purchase: no slot freed
    assert Offer.objects.get().stock == 4


def test_a_limit_set_later_counts_no_store_purchase_refunded_before_its_grant(
    player_client,
    player,
    sword_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    hold_a_sword(player)
    redeem(player_client, chain.sign(signed_transaction()), sword_offer)
    refund_purchase(purchase_id=Purchase.objects.get().pk, kind="refund")
    # The limit removed and set again: the counters are made from the purchases that count.
    Offer.objects.filter(pk=sword_offer.pk).update(per_player_limit=None)
    limit_saved(offer_id=sword_offer.pk, limit=None)
    Offer.objects.filter(pk=sword_offer.pk).update(per_player_limit=1)
    limit_saved(offer_id=sword_offer.pk, limit=1)

    assert not OfferPurchaseCount.objects.filter(player=player, offer=sword_offer).exists()


def test_a_store_purchase_past_the_stock_records_only_what_it_took(
    player_client,
    player,
    sword_offer,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    Offer.objects.filter(pk=sword_offer.pk).update(stock=1, per_player_limit=None)
    hold_a_sword(player)
    redeem(player_client, chain.sign(signed_transaction(quantity=3)), sword_offer)
    purchase = Purchase.objects.get()
    assert (purchase.reserved_slots, purchase.reserved_stock) == (0, 1)
    assert Offer.objects.get().stock == 0

    refund_purchase(purchase_id=purchase.pk, kind="refund")

    assert Offer.objects.get().stock == 1  # the one unit it took, not the three it sold


@pytest.mark.usefixtures("google")
def test_googles_refund_of_an_ungranted_purchase_gives_back_its_slot_and_stock(
    api_client,
    player_client,
    player,
    real_offer,  # noqa: F811 - fixture
    store,  # noqa: F811 - fixture
):
    """End to end: Google refunds the purchase nobody acknowledged (the shop could not grant
    it), and its voided-purchase notification gives the slot and the unit back."""
    Offer.objects.filter(pk=real_offer.pk).update(per_player_limit=1, stock=5)
    a_sword_already_held(player, real_offer, consumable=True)
    purchase_state(store)
    assert google_redeem(player_client, real_offer).status_code == 202
    assert (count(player, real_offer), Offer.objects.get().stock) == (1, 4)
    voided_list(store, [VOIDED_ENTRY])
    notice = {
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {
            "purchaseToken": "tok-1", "orderId": "GPA.1234-5678", "productType": 2,
            "refundType": 1,
        },
    }  # fmt: skip

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            rtdn(notice),
            content_type="application/json",
        )

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert (count(player, real_offer), Offer.objects.get().stock) == (0, 5)
