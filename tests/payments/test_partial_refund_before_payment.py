"""A partial refund (a `flag`: an operator reviews the grant) whose notification is processed
before the payment's own news is kept `unmatched`, as a full refund is, and applied when the
payment's news comes: the purchase is granted, then flagged. Unlike a reversal it refuses no
receipt: the store's transaction was paid, only part of it went back."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from apps.payments.models import ProviderEvent
from apps.payments.selectors import reversed_before_known
from apps.shop.models import Purchase
from tests.payments.conftest import committed, post_stripe, stripe_event
from tests.payments.test_apple import BUNDLE, apple, chain, redeem, transaction
from tests.payments.test_reversal_before_payment import give_up_on_unmatched
from tests.payments.test_stripe import completed, start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db

__all__ = ["apple", "chain"]  # the fixtures


def partial_refund(event_id="evt_p"):
    return stripe_event(
        "charge.refunded",
        {
            "id": "ch_1",
            "payment_intent": "pi_1",
            "refunded": False,
            "amount_refunded": 50,
            "amount": 199,
        },
        event_id=event_id,
    )


def test_a_partial_refund_before_the_payment_flags_it_when_it_is_paid(
    api_client, player_client, player, real_offer, checkout, settings
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    assert post_stripe(api_client, partial_refund()).status_code == 200
    early = ProviderEvent.objects.get()
    assert (early.status, early.reference) == ("unmatched", "pi_1")
    assert "Partial refund of 50 of 199" in early.outcome
    give_up_on_unmatched(settings)  # the sweeper no longer looks at it

    assert post_stripe(api_client, completed(purchase_id=purchase_id)).status_code == 200

    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.COMPLETED  # paid, less a part: granted
    assert balance(player, "gems") == 100
    assert purchase.needs_attention and "Partial refund of 50 of 199" in purchase.note
    early.refresh_from_db()
    assert early.status == ProviderEvent.Status.PROCESSED
    assert early.payment_id == purchase.payment.pk


def test_an_unmatched_partial_refund_refuses_no_receipt():
    ProviderEvent.objects.create(
        provider="google_play",
        event_id="m1",
        event_type="voidedPurchaseNotification",
        payload={},
        status=ProviderEvent.Status.UNMATCHED,
        reference="GPA.1",
        outcome="flag of a payment not known yet: Google Play partial refund",
    )
    assert not reversed_before_known(provider="google_play", references=["GPA.1"])

    ProviderEvent.objects.create(
        provider="google_play",
        event_id="m2",
        event_type="voidedPurchaseNotification",
        payload={},
        status=ProviderEvent.Status.UNMATCHED,
        reference="GPA.1",
        outcome="refund of a payment not known yet",
    )
    assert reversed_before_known(provider="google_play", references=["GPA.1"])


def test_an_apple_flag_before_the_receipt_is_kept_and_refuses_nothing(
    api_client, player_client, player, real_offer, apple, chain
):
    notification = {
        "notificationType": "REFUND_REVERSED",
        "notificationUUID": str(uuid.uuid4()),
        "signedDate": int(time.time() * 1000),
        "data": {
            "bundleId": BUNDLE,
            "environment": "Sandbox",
            "signedTransactionInfo": chain.sign(transaction()),
        },
    }
    with committed():
        api_client.post(
            "/api/v1/payments/webhooks/apple",
            json.dumps({"signedPayload": chain.sign(notification)}),
            content_type="application/json",
        )
    assert ProviderEvent.objects.get().status == ProviderEvent.Status.UNMATCHED

    assert redeem(player_client, chain.sign(transaction()), real_offer).status_code == 201
    assert balance(player, "gems") == 100
