"""A Stripe account's webhook endpoint receives every event of the account: checkouts another
integration of the studio opened (a web shop whose `client_reference_id` is its own order
number), or another deployment sharing a test account (whose purchase 5 is not ours). Such an
event names a purchase id of ours by chance; its session or payment intent is not our payment's,
so it ends, grants and reverses nothing here."""

import pytest

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.shop.models import Offer, Purchase
from tests.payments.conftest import post_stripe, stripe_event
from tests.payments.test_stripe import completed, start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db


def test_another_sessions_expiry_naming_our_purchase_leaves_its_checkout_open(
    api_client, player_client, player, real_offer, checkout
):
    Offer.objects.filter(pk=real_offer.pk).update(stock=5, per_player_limit=1)
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    foreign = {"id": "cs_web_shop_9", "client_reference_id": str(purchase_id)}

    response = post_stripe(api_client, stripe_event("checkout.session.expired", foreign))

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "ignored"
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.outcome) == ("pending", "")
    assert Payment.objects.get().status == "created"
    assert Offer.objects.get().stock == 4  # still held by the open checkout
    # The buyer pays the checkout they hold: granted, not "paid after it expired".
    post_stripe(api_client, completed(purchase_id=purchase_id, event_id="evt_2"))
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100


def test_another_sessions_payment_naming_our_purchase_grants_nothing(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    response = post_stripe(api_client, completed(session="cs_staging_5", purchase_id=purchase_id))

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "ignored"
    assert Purchase.objects.get().status == "pending"
    payment = Payment.objects.get()
    assert (payment.status, payment.payment_reference) == ("created", "")
    assert balance(player, "gems") == 0
    assert not LedgerEntry.objects.filter(reason="purchase").exists()


def test_a_refund_of_another_payment_intent_naming_our_purchase_reverses_nothing(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))  # paid with pi_1
    refund = {
        "payment_intent": "pi_staging_5",
        "refunded": True,
        "metadata": {"purchase_id": str(purchase_id)},
    }

    response = post_stripe(api_client, stripe_event("charge.refunded", refund, event_id="evt_2"))

    assert response.status_code == 200
    event = ProviderEvent.objects.get(event_id="evt_2")
    assert (event.status, event.payment_id) == ("unmatched", None)
    assert Purchase.objects.get().status == "completed"
    assert Payment.objects.get().status == "succeeded"
    assert balance(player, "gems") == 100


def test_a_refund_of_our_payment_intent_before_it_was_stored_is_still_matched_by_purchase(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    refund = {
        "payment_intent": "pi_1",
        "refunded": True,
        "metadata": {"purchase_id": str(purchase_id)},
    }

    post_stripe(api_client, stripe_event("charge.refunded", refund, event_id="evt_2"))

    assert Purchase.objects.get().status == "refunded"
    assert Payment.objects.get().status == "refunded"
