"""The same processor callback delivered five times at once grants once (PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import sandbox
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deliver(body: bytes, signature: str) -> int:
    try:
        response = APIClient().generic(
            "POST",
            "/api/v1/payments/webhooks/sandbox",
            body,
            content_type="application/json",
            HTTP_SANDBOX_SIGNATURE=signature,
        )
        return response.status_code
    finally:
        connection.close()


def pending_payment(player, offer) -> Payment:
    purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    return Payment.objects.get()


def test_one_webhook_delivered_five_times_at_once_grants_once(player, real_offer):
    payment = pending_payment(player, real_offer)
    body, signature = sandbox.build_event(payment=payment, action="paid")

    with ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(lambda _: deliver(body, signature), range(5)))

    assert statuses == [200] * 5
    assert ProviderEvent.objects.count() == 1
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def test_five_different_events_for_one_payment_at_once_grant_once(player, real_offer):
    payment = pending_payment(player, real_offer)
    events = [sandbox.build_event(payment=payment, action="paid") for _ in range(5)]

    with ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(lambda event: deliver(*event), events))

    assert statuses == [200] * 5
    assert ProviderEvent.objects.filter(status="processed").count() == 5
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def test_a_paid_event_processed_while_a_refund_commits_leaves_the_payment_refunded(
    player, real_offer
):
    """The paid event read the payment before the refund committed: its write waited on the
    row and then put `succeeded` over `refunded`. Now the status is checked where it is
    written."""
    import threading

    from django.db import transaction

    from tests.conftest import in_thread

    payment = pending_payment(player, real_offer)
    body, signature = sandbox.build_event(payment=payment, action="paid")
    refunding, commit = threading.Event(), threading.Event()

    def refund_in_progress() -> None:
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.REFUNDED)
            Purchase.objects.filter(pk=payment.purchase_id).update(status="refunded")
            refunding.set()
            commit.wait(10)

    refund = in_thread(refund_in_progress)
    assert refunding.wait(10)
    paid = in_thread(lambda: deliver(body, signature))
    import time

    time.sleep(0.5)  # the paid event waits on the payment's row by now
    commit.set()
    refund.result(timeout=10)

    assert paid.result(timeout=10) == 200
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
    assert balance(player, "gems") == 0
    assert "not granted" in ProviderEvent.objects.get().outcome
