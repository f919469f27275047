"""A checkout's refund or chargeback whose notification was processed before the payment's own
news (a dispute carries only the payment intent, which the payment learns when it is paid): the
reversal is kept `unmatched`, and when the payment's news comes the purchase is not granted but
reversed, as a store receipt whose refund came first is refused. Granting it and waiting for the
sweeper to match the reversal would let the player spend what is then clawed back, and once the
sweeper has given up on the reversal nothing would ever take it back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import LedgerEntry
from apps.payments import tasks
from apps.payments.models import Payment, ProviderEvent
from apps.payments.services import recovery
from apps.shop.models import Purchase
from tests.payments.conftest import committed, post_stripe, stripe_event
from tests.payments.test_stripe import completed, start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db


def dispute(event_id="evt_d"):
    return stripe_event(
        "charge.dispute.created",
        {"id": "dp_1", "object": "dispute", "payment_intent": "pi_1", "metadata": {}},
        event_id=event_id,
    )


def refund_without_metadata(event_id="evt_r"):
    return stripe_event(
        "charge.refunded",
        {"id": "ch_1", "payment_intent": "pi_1", "refunded": True, "amount": 199},
        event_id=event_id,
    )


def give_up_on_unmatched(settings):
    """The sweeper looked at the unmatched reversal as often as it does, then left it."""
    ProviderEvent.objects.filter(status="unmatched").update(
        sweeps=settings.PAYMENTS_SWEEP_MAX_ATTEMPTS
    )
    with committed():
        recovery.sweep(
            event_task=tasks.process_provider_event,
            callback_task=tasks.deliver_sandbox_callback,
            now=timezone.now() + timedelta(days=1),
        )


@pytest.mark.parametrize(
    ("reversal", "kind", "status"),
    [(dispute, "chargeback", "disputed"), (refund_without_metadata, "refund", "refunded")],
)
def test_a_reversal_received_before_the_payment_is_applied_when_it_is_paid_not_a_grant(
    api_client, player_client, player, real_offer, checkout, settings, reversal, kind, status
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    assert post_stripe(api_client, reversal()).status_code == 200
    early = ProviderEvent.objects.get()
    assert (early.status, early.reference) == ("unmatched", "pi_1")
    give_up_on_unmatched(settings)

    assert post_stripe(api_client, completed(purchase_id=purchase_id)).status_code == 200

    purchase = Purchase.objects.get()
    assert purchase.status == "refunded"
    assert balance(player, "gems") == 0
    assert not LedgerEntry.objects.exists()  # never granted, so nothing to claw back
    payment = Payment.objects.get()
    assert (payment.status, payment.payment_reference) == (status, "pi_1")
    early.refresh_from_db()
    assert (early.status, early.payment_id) == ("processed", payment.pk)
    assert early.outcome.startswith(kind)
    paid = ProviderEvent.objects.get(event_id="evt_1")
    assert paid.status == "processed"
    assert f"{status} before" in paid.outcome


def test_without_an_early_reversal_the_payment_is_granted(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    post_stripe(api_client, completed(purchase_id=purchase_id))

    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert Payment.objects.get().status == "succeeded"
