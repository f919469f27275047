"""The payments sweeper (services/recovery.py): what the normal path left undone is queued
again, with backoff, a bounded number of times, then flagged and alerted."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent, SandboxCallback
from apps.payments.providers import sandbox
from apps.payments.services import callbacks, recovery
from apps.payments.services.processing import process_event
from apps.payments.tasks import deliver_sandbox_callback, process_provider_event, sweep_payments
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import HAS_POSTGRES
from tests.shop.helpers import balance


class FakeTask:
    """Stands in for a Celery task: records what the sweeper queued."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def delay(self, pk: int) -> None:
        self.sent.append(pk)


@pytest.fixture
def stored_event(player, real_offer, settings):
    """A signed sandbox `payment.succeeded`, stored as received and never queued (as when the
    broker was down on arrival)."""
    settings.PAYMENTS_SWEEP_GRACE_SECONDS = 120
    settings.PAYMENTS_SWEEP_BACKOFF_SECONDS = 60
    settings.PAYMENTS_SWEEP_MAX_ATTEMPTS = 3
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    payment = Payment.objects.get()
    body, _ = sandbox.build_event(payment=payment, action="paid")
    notification = sandbox.parse_notification(
        body=body,
        headers={
            sandbox.SIGNATURE_HEADER: sandbox.signing.sign(
                secret=settings.SANDBOX_PAYMENT_SECRET, body=body
            )
        },
    )
    return ProviderEvent.objects.create(
        provider="sandbox",
        event_id=notification.event_id,
        game_id=notification.game_id,
        event_type=notification.event_type,
        payload=notification.payload,
    )


def sweep(now, events=None, deliveries=None):
    return recovery.sweep(
        event_task=events or FakeTask(), callback_task=deliveries or FakeTask(), now=now
    )


def test_a_young_event_is_left_to_the_normal_path(stored_event, django_capture_on_commit_callbacks):
    events = FakeTask()
    with django_capture_on_commit_callbacks(execute=True):
        report = sweep(stored_event.received_at + timedelta(seconds=119), events=events)

    assert (report.events_requeued, events.sent) == (0, [])


def test_an_event_left_received_is_queued_again_with_backoff_then_flagged_and_alerted(
    stored_event, django_capture_on_commit_callbacks, caplog
):
    events, start = FakeTask(), stored_event.received_at + timedelta(seconds=120)
    moments = [start, start + timedelta(seconds=59), start + timedelta(seconds=60)]
    moments += [start + timedelta(seconds=60 + 119), start + timedelta(seconds=60 + 120)]
    reports = []
    for now in moments:
        with django_capture_on_commit_callbacks(execute=True):
            reports.append(sweep(now, events=events))

    # Queued at once, again after 60 s, then after 120 s (60 × 2^n): three attempts in all.
    assert [r.events_requeued for r in reports] == [1, 0, 1, 0, 1]
    assert events.sent == [stored_event.pk] * 3
    stored_event.refresh_from_db()
    assert (stored_event.sweeps, stored_event.needs_attention) == (3, False)

    with (
        caplog.at_level(logging.ERROR, logger="apps.payments.services.recovery"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        last = sweep(start + timedelta(hours=2), events=events)

    assert (last.events_requeued, last.events_abandoned) == (0, 1)
    assert events.sent == [stored_event.pk] * 3
    stored_event.refresh_from_db()
    assert stored_event.needs_attention is True
    alert = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert len(alert) == 1 and stored_event.event_id in alert[0]
    # Flagged rows are left for an operator: no more sweeps, no more alerts.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(start + timedelta(days=1), events=events).events_abandoned == 0


def test_failed_events_are_swept_processed_ones_are_not(
    stored_event, django_capture_on_commit_callbacks
):
    later = stored_event.received_at + timedelta(minutes=5)
    ProviderEvent.objects.filter(pk=stored_event.pk).update(status=ProviderEvent.Status.FAILED)
    events = FakeTask()
    with django_capture_on_commit_callbacks(execute=True):
        sweep(later, events=events)
    assert events.sent == [stored_event.pk]

    ProviderEvent.objects.filter(pk=stored_event.pk).update(
        status=ProviderEvent.Status.PROCESSED, next_sweep_at=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        sweep(later + timedelta(hours=1), events=events)
    assert events.sent == [stored_event.pk]


def test_an_unmatched_refund_is_looked_at_a_few_times_then_left_without_an_alert(
    stored_event, django_capture_on_commit_callbacks, caplog
):
    ProviderEvent.objects.filter(pk=stored_event.pk).update(
        status=ProviderEvent.Status.UNMATCHED, reference="2000000123"
    )
    events, start = FakeTask(), stored_event.received_at + timedelta(seconds=120)
    with caplog.at_level(logging.ERROR, logger="apps.payments.services.recovery"):
        for hours in range(6):  # far apart: each sweep finds it due, while attempts remain
            with django_capture_on_commit_callbacks(execute=True):
                sweep(start + timedelta(hours=hours), events=events)

    assert events.sent == [stored_event.pk] * 3  # PAYMENTS_SWEEP_MAX_ATTEMPTS
    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.needs_attention) == ("unmatched", False)
    assert not [r for r in caplog.records if r.getMessage().startswith("ALERT")]


def test_the_beat_task_completes_the_purchase_once_however_often_it_runs(
    player, stored_event, settings, django_capture_on_commit_callbacks
):
    settings.PAYMENTS_SWEEP_GRACE_SECONDS = 0
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            sweep_payments.apply()
        # A redelivered task (acks_late) finds the event done.
        process_provider_event.apply(args=[stored_event.pk])

    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.sweeps) == ("processed", 1)
    assert process_event(event_pk=stored_event.pk).status == "processed"
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def test_a_sandbox_callback_left_pending_is_delivered_again(
    client, player, real_offer, settings, sandbox_callbacks, django_capture_on_commit_callbacks
):
    """The buyer pressed Pay while the broker was down: the callback row waits for the sweeper,
    which queues its delivery; the purchase completes once."""
    settings.PAYMENTS_SWEEP_GRACE_SECONDS = 0
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    payment = Payment.objects.get()
    # Pressed Pay, the after-commit enqueue never happened (no callback run).
    response = client.post(
        f"/payments/sandbox/checkout/{payment.public_token}",
        {"action": "paid"},
        content_type="application/json",
    )
    assert response.status_code == 202
    callback = SandboxCallback.objects.get()
    assert (callback.status, Purchase.objects.get().status) == ("pending", "pending")

    with django_capture_on_commit_callbacks(execute=True):
        report = recovery.sweep(
            event_task=process_provider_event,
            callback_task=deliver_sandbox_callback,
            now=timezone.now() + timedelta(seconds=1),
        )

    assert report.callbacks_requeued == 1
    callback.refresh_from_db()
    assert (callback.status, callback.attempts) == ("delivered", 1)
    assert Purchase.objects.get().status == "completed"
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
    # Delivered again (a lost answer): the webhook knows the event id, nothing more is granted.
    SandboxCallback.objects.filter(pk=callback.pk).update(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        callbacks.deliver(callback_pk=callback.pk)
    assert ProviderEvent.objects.get().event_id == callback.event_id
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1


def test_the_callback_task_retries_a_database_error(
    player, real_offer, sandbox_callbacks, django_capture_on_commit_callbacks, monkeypatch
):
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    callback = SandboxCallback.objects.create(
        payment=Payment.objects.get(), action="paid", event_id=sandbox.new_event_id()
    )
    real_deliver, calls = callbacks.deliver, []

    def flaky(*, callback_pk):
        calls.append(callback_pk)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_deliver(callback_pk=callback_pk)

    monkeypatch.setattr(callbacks, "deliver", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        result = deliver_sandbox_callback.apply(args=[callback.pk], throw=False)

    assert calls == [callback.pk, callback.pk]
    assert result.successful() and result.result is True
    callback.refresh_from_db()
    assert callback.status == "delivered"
    assert Purchase.objects.get().status == "completed"


def test_a_checkout_never_opened_is_closed_freeing_its_limit_and_its_key_answers_503(
    player, real_offer, stripe_account, checkout, settings, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from apps.payments.services import checkout as checkout_service
    from apps.shop.models import OfferPurchaseCount

    real_offer.per_player_limit = 1
    real_offer.save()

    def process_dies(**kwargs):
        raise RuntimeError("worker killed while Stripe answered")

    monkeypatch.setattr(checkout_service, "open_checkout", process_dies)
    with pytest.raises(RuntimeError):
        purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k1")
    monkeypatch.undo()
    payment = Payment.objects.get()
    assert (payment.status, payment.checkout_url) == ("created", "")
    young = sweep(
        payment.created_at + timedelta(seconds=settings.PAYMENTS_UNOPENED_CHECKOUT_SECONDS - 1)
    )
    assert young.unopened_checkouts == 0

    with django_capture_on_commit_callbacks(execute=True):
        report = sweep(
            payment.created_at + timedelta(seconds=settings.PAYMENTS_UNOPENED_CHECKOUT_SECONDS)
        )

    assert report.unopened_checkouts == 1
    payment.refresh_from_db()
    purchase = Purchase.objects.get()
    assert (payment.status, purchase.status) == ("failed", "failed")
    assert not OfferPurchaseCount.objects.filter(player=player, count__gt=0).exists()
    replay = purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k1")
    assert (replay.status_code, replay.body["code"]) == (503, "payment_provider_unavailable")
    assert Payment.objects.get().checkout_url == ""  # no checkout opened for the closed purchase
    fresh = purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k2")
    assert fresh.status_code == 202  # the limit slot is free again


@pytest.mark.skipif(not HAS_POSTGRES, reason="needs PostgreSQL's planner")
def test_the_checkout_sweeps_read_the_open_payments_index_not_every_payment(player, real_offer):
    """Every minute: at 2M payments a scan of every Stripe (or sandbox) payment took ~1 s."""
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    with CaptureQueriesContext(connection) as queries:
        sweep(timezone.now() + timedelta(days=3))
    reads = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "payments_payment"') and "'created'" in query["sql"]
    ]

    # Unopened checkouts, submitted sandbox ones whose callback was given up on, and submitted
    # ones still undecided (opened ones expire: test_checkout_expiry.py).
    assert len(reads) == 3
    for sql in reads:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a usable index is used on few rows
            cursor.execute("EXPLAIN " + sql)
            used = "\n".join(row[0] for row in cursor.fetchall())
        assert "payment_open_created" in used, used
