"""Payments that arrive for a purchase that already ended are flagged, never granted blindly."""

import pytest
from django.utils import timezone

from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import RawEvent, RevenueDay
from apps.inventory.models import LedgerEntry
from apps.shop.models import Offer, Purchase
from apps.shop.services.fulfilment import fulfil_purchase, refund_purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("closed", [Purchase.Status.FAILED, Purchase.Status.EXPIRED])
def test_paid_after_close_is_flagged_not_granted(player, real_offer, closed):
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    purchase = Purchase.objects.get()
    Purchase.objects.filter(pk=purchase.pk).update(status=closed)

    fulfilled, balances = fulfil_purchase(purchase_id=purchase.pk)

    assert balances == {}
    assert fulfilled.needs_attention and fulfilled.status == closed
    assert balance(player, "gems") == 0
    assert not LedgerEntry.objects.filter(reason="purchase").exists()


def test_refunding_an_ungranted_receipt_purchase_returns_no_stock(player, real_offer):
    Offer.objects.filter(pk=real_offer.pk).update(stock=7)
    receipt = Purchase.objects.create(
        game=player.game,
        player=player,
        offer=real_offer,
        source=Purchase.Source.RECEIPT,
        idempotency_key="apple:1",
        real_money=True,
        provider="apple",
        price_currency="USD",
        price_amount=199,
    )

    refund_purchase(purchase_id=receipt.pk, kind="refund")

    assert Offer.objects.get(pk=real_offer.pk).stock == 7
    assert Purchase.objects.get(pk=receipt.pk).status == Purchase.Status.REFUNDED


@pytest.mark.parametrize("closed", [Purchase.Status.FAILED, Purchase.Status.EXPIRED])
def test_refunding_a_purchase_that_never_completed_takes_nothing_off_revenue(
    player, real_offer, closed
):
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    purchase = Purchase.objects.get()
    Purchase.objects.filter(pk=purchase.pk).update(status=closed)
    fulfil_purchase(purchase_id=purchase.pk)  # paid after it closed: flagged, not granted

    refund_purchase(purchase_id=purchase.pk, kind="refund")
    today = timezone.now().date()
    aggregate_days(game_id=player.game_id, start=today, end=today)

    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.REFUNDED
    assert not RawEvent.objects.filter(name="purchase_refunded").exists()
    assert not RevenueDay.objects.filter(refunded__gt=0).exists()
