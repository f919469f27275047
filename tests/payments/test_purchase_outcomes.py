"""How a real-money purchase ended unpaid, told apart (the buyer's cancel, a failed payment, an
expired checkout, a checkout never opened), and the sweeps that close what the normal path left
holding its reservation: purchases stranded behind a payment already ended, and sandbox
checkouts whose Pay or Cancel was never delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.payments.errors import ProviderUnavailable
from apps.payments.models import Payment, ProviderEvent, SandboxCallback
from apps.payments.providers import sandbox
from apps.payments.services import callbacks, expiry, recovery
from apps.payments.services import checkout as checkout_service
from apps.payments.services.processing import process_event
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import HAS_POSTGRES

pytestmark = pytest.mark.django_db


class FakeTask:
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def delay(self, pk: int) -> None:
        self.sent.append(pk)


def sweep(now=None, callback_task=None):
    return recovery.sweep(
        event_task=FakeTask(),
        callback_task=callback_task or FakeTask(),
        now=now or timezone.now() + timedelta(hours=1),
    )


@pytest.fixture
def limited(real_offer):
    Offer.objects.filter(pk=real_offer.pk).update(stock=5, per_player_limit=5)
    real_offer.refresh_from_db()
    return real_offer


def held(offer: Offer) -> tuple[int | None, int]:
    taken = OfferPurchaseCount.objects.filter(offer=offer).values_list("count", flat=True)
    return Offer.objects.get(pk=offer.pk).stock, sum(taken)


def buy(player, offer, key: str = "k") -> Payment:
    answer = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)
    assert answer.status_code == 202, answer.body
    return Payment.objects.get(pk=answer.body["payment"]["payment_id"])


def sandbox_event(payment: Payment, action: str, settings) -> ProviderEvent:
    body, _ = sandbox.build_event(payment=payment, action=action)
    signature = sandbox.signing.sign(secret=settings.SANDBOX_PAYMENT_SECRET, body=body)
    notification = sandbox.parse_notification(
        body=body, headers={sandbox.SIGNATURE_HEADER: signature}
    )
    return ProviderEvent.objects.create(
        provider="sandbox",
        event_id=notification.event_id,
        game_id=payment.game_id,
        event_type=notification.event_type,
        payload=notification.payload,
    )


def shown(player_client, payment: Payment) -> dict:
    response = player_client.get(f"/api/v1/shop/purchases/{payment.purchase_id}")
    assert response.status_code == 200
    return response.json()


# -- The stored outcome and the purchase's answer ----------------------------------------------


def test_the_buyers_cancel_is_payment_cancelled(player, player_client, limited, settings):
    payment = buy(player, limited)

    assert process_event(event_pk=sandbox_event(payment, "cancel", settings).pk).status == (
        "processed"
    )

    body = shown(player_client, payment)
    assert (body["status"], body["outcome"], body["payment"]["status"]) == (
        "failed",
        "payment_cancelled",
        "failed",  # the payment's status values are unchanged
    )
    assert held(limited) == (5, 0)


def test_a_payment_the_processor_reports_failed_is_payment_failed(player, player_client, limited):
    payment = buy(player, limited)
    Payment.objects.filter(pk=payment.pk).update(provider="stripe", external_id="cs_test_9")
    event = ProviderEvent.objects.create(
        provider="stripe",
        event_id="evt_failed",
        game_id=player.game_id,
        event_type="checkout.session.async_payment_failed",
        payload={"data": {"object": {"id": "cs_test_9"}}},
    )

    process_event(event_pk=event.pk)

    body = shown(player_client, payment)
    assert (body["status"], body["outcome"]) == ("failed", "payment_failed")
    assert held(limited) == (5, 0)


@pytest.mark.parametrize("by", ["processor", "sweep"])
def test_an_expired_checkout_is_checkout_expired(player, player_client, limited, settings, by):
    payment = buy(player, limited)
    if by == "processor":
        process_event(event_pk=sandbox_event(payment, "expired", settings).pk)
    else:
        Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(hours=1))
        assert expiry.expire_checkouts() == 1

    body = shown(player_client, payment)
    assert (body["status"], body["outcome"]) == ("expired", "checkout_expired")


def test_a_checkout_the_processor_refused_is_payment_provider_unavailable(
    player, player_client, limited, monkeypatch
):
    def refused(**kwargs):
        raise ProviderUnavailable("the processor refused")

    monkeypatch.setattr(checkout_service, "open_checkout", refused)
    answer = purchase_offer(player=player, offer_id=limited.pk, quantity=1, idempotency_key="k")

    assert (answer.status_code, answer.body["code"]) == (503, "payment_provider_unavailable")

    purchase = Purchase.objects.get()
    body = player_client.get(f"/api/v1/shop/purchases/{purchase.pk}").json()
    assert (body["status"], body["outcome"]) == ("failed", "payment_provider_unavailable")


def test_pending_and_completed_purchases_have_no_outcome(player, player_client, limited):
    payment = buy(player, limited)

    assert shown(player_client, payment)["outcome"] is None


@pytest.mark.parametrize(
    ("status", "note", "outcome"),
    [
        ("expired", "checkout expired unpaid at 2026-11-01 10:00 UTC", "checkout_expired"),
        ("failed", "checkout never opened", "payment_provider_unavailable"),
        ("failed", "payment_provider_unavailable", "payment_provider_unavailable"),
        ("failed", "insufficient_funds", "insufficient_funds"),
        # Before outcomes were recorded a cancel and a failure both noted this: not told.
        ("failed", "checkout failed", None),
    ],
)
def test_purchases_that_ended_before_outcomes_were_recorded_answer_what_their_row_tells(
    player, player_client, limited, status, note, outcome
):
    payment = buy(player, limited)
    Purchase.objects.filter(pk=payment.purchase_id).update(status=status, note=note, outcome="")

    assert shown(player_client, payment)["outcome"] == outcome


# -- Stranded reservations: the payment ended, the purchase still pending ----------------------


def stranded(player, offer, key: str, status: str = "failed", **details) -> Payment:
    """A purchase left pending, holding its stock and limit slot, behind a payment that ended
    unpaid: rows written before a failed checkout's payment and purchase ended together."""
    payment = buy(player, offer, key)
    Payment.objects.filter(pk=payment.pk).update(status=status, details=details)
    return payment


def test_the_sweep_closes_a_purchase_whose_payment_already_failed(player, limited):
    payment = stranded(player, limited, "k")
    assert held(limited) == (4, 1)

    report = sweep()

    assert report.stranded_purchases == 1
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.outcome) == ("failed", "payment_failed")
    assert held(limited) == (5, 0)
    # The key keeps the 202 it answered; the purchase tells how it ended.
    answer = purchase_offer(player=player, offer_id=limited.pk, quantity=1, idempotency_key="k")
    assert (answer.status_code, answer.body["purchase_id"]) == (202, payment.purchase_id)
    # Idempotent: run again, nothing more is given back.
    assert sweep().stranded_purchases == 0
    assert held(limited) == (5, 0)


@pytest.mark.parametrize(
    ("status", "details", "cancel", "outcome"),
    [
        ("expired", {}, False, "checkout_expired"),
        ("failed", {}, True, "payment_cancelled"),
        ("failed", {"error": "Stripe answered 400."}, False, "payment_provider_unavailable"),
        ("failed", {}, False, "payment_failed"),
    ],
)
def test_a_stranded_purchase_is_closed_with_the_reason_its_payment_tells(
    player, limited, status, details, cancel, outcome
):
    payment = stranded(player, limited, "k", status, **details)
    if cancel:
        SandboxCallback.objects.create(
            payment=payment, action="cancel", event_id="sbxevt_old", status="delivered"
        )

    assert sweep().stranded_purchases == 1

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.outcome) == (
        "expired" if status == "expired" else "failed",
        outcome,
    )
    assert held(limited) == (5, 0)


def test_the_stranded_sweep_works_in_batches_until_none_is_left(player, limited, settings):
    settings.PAYMENTS_SWEEP_BATCH = 2
    for number in range(5):
        stranded(player, limited, f"k{number}")
    assert held(limited) == (0, 5)

    assert sweep().stranded_purchases == 5

    assert set(Purchase.objects.values_list("status", flat=True)) == {"failed"}
    assert held(limited) == (5, 0)


def test_the_stranded_sweep_leaves_young_rows_and_paid_purchases(player, limited, settings):
    young = stranded(player, limited, "young")
    paid = stranded(player, limited, "paid")
    Purchase.objects.filter(pk=paid.purchase_id).update(status="completed")

    assert sweep(now=timezone.now()).stranded_purchases == 0  # within the grace
    assert sweep().stranded_purchases == 1

    assert Purchase.objects.get(pk=young.purchase_id).status == "failed"
    assert Purchase.objects.get(pk=paid.purchase_id).status == "completed"
    assert held(limited) == (4, 1)


@pytest.mark.skipif(not HAS_POSTGRES, reason="PostgreSQL's planner")
def test_the_stranded_sweep_reads_the_pending_purchases_index(player, limited):
    """Every minute: not a scan of every payment or purchase ever made."""
    stranded(player, limited, "k")
    with CaptureQueriesContext(connection) as queries:
        sweep(now=timezone.now())
    [read] = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "payments_payment"') and "shop_purchase" in query["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + read)
        used = "\n".join(row[0] for row in cursor.fetchall())
    assert "purchase_pending" in used, used


# -- Sandbox Pay or Cancel pressed, its callback never delivered --------------------------------


def press(client, payment: Payment, action: str) -> SandboxCallback:
    """The buyer's button, its delivery never queued (the broker was down)."""
    response = client.post(
        f"/payments/sandbox/checkout/{payment.public_token}",
        {"action": action},
        content_type="application/json",
    )
    assert response.status_code == 202
    return SandboxCallback.objects.get(payment=payment)


@pytest.mark.parametrize(
    ("action", "outcome"), [("paid", "payment_failed"), ("cancel", "payment_cancelled")]
)
def test_a_submitted_sandbox_checkout_whose_callback_the_sweeper_gave_up_on_is_closed(
    client, player, player_client, limited, settings, action, outcome, caplog
):
    """Pay (or Cancel) took the checkout's end away; the sweeper re-queues the callback its
    PAYMENTS_SWEEP_MAX_ATTEMPTS times, then gives up on it: in that same run the checkout is
    closed and its reservation released, instead of held for good."""
    settings.PAYMENTS_SWEEP_MAX_ATTEMPTS = 2
    payment = buy(player, limited)
    callback = press(client, payment, action)
    assert Payment.objects.get().expires_at is None
    now = timezone.now()

    for _ in range(2):  # re-queued; nothing delivers it
        now += timedelta(hours=2)
        report = sweep(now=now)
        assert (report.callbacks_requeued, report.undelivered_checkouts) == (1, 0)
    assert held(limited) == (4, 1)
    report = sweep(now=now + timedelta(hours=2))

    assert (report.callbacks_abandoned, report.undelivered_checkouts) == (1, 1)
    callback.refresh_from_db()
    assert (callback.status, callback.needs_attention) == ("closed", True)
    body = shown(player_client, payment)
    assert (body["status"], body["outcome"], body["payment"]["status"]) == (
        "failed",
        outcome,
        "failed",
    )
    assert held(limited) == (5, 0)
    # A delivery still retrying sends nothing now.
    assert callbacks.deliver(callback_pk=callback.pk) is False
    assert sweep(now=now + timedelta(hours=4)).undelivered_checkouts == 0


def test_a_callback_given_up_on_before_this_release_is_closed_too(
    client, player, limited, settings
):
    """Flagged rows the sweeper no longer looks at: their checkouts are closed all the same."""
    payment = buy(player, limited)
    callback = press(client, payment, "paid")
    SandboxCallback.objects.filter(pk=callback.pk).update(needs_attention=True, sweeps=8)

    assert sweep().undelivered_checkouts == 1

    assert Purchase.objects.get().outcome == "payment_failed"
    assert held(limited) == (5, 0)


def test_a_pending_callback_still_being_retried_keeps_its_checkout(client, player, limited):
    payment = buy(player, limited)
    press(client, payment, "paid")

    report = sweep()

    assert (report.callbacks_requeued, report.undelivered_checkouts) == (1, 0)
    assert Purchase.objects.get().status == "pending"
    assert held(limited) == (4, 1)


def test_a_refund_callback_given_up_on_closes_nothing(client, player, limited, settings):
    payment = buy(player, limited)
    Payment.objects.filter(pk=payment.pk).update(status="succeeded")
    SandboxCallback.objects.create(
        payment=payment, action="refund", event_id="sbxevt_r", needs_attention=True
    )

    assert sweep().undelivered_checkouts == 0
    assert Payment.objects.get().status == "succeeded"
