"""Checkouts nobody finishes (services/expiry.py): unpaid at their end they expire, give back
the stock and limit slot they held once, whoever says so first (our sweep or the processor),
and a payment reported after that is kept and flagged, never granted blindly nor lost."""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent, SandboxCallback
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import HAS_POSTGRES
from tests.payments.conftest import SESSIONS, committed, post_stripe, stripe_event
from tests.payments.test_stripe import completed
from tests.payments.test_stripe import start as start_stripe
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def expire(now: datetime) -> int:
    """The expiry sweep as beat runs it, at `now`."""
    from apps.payments.services.expiry import expire_checkouts

    return expire_checkouts(now=now)


@pytest.fixture
def limited(real_offer):
    """Five left, one per player: what an unpaid checkout holds."""
    Offer.objects.filter(pk=real_offer.pk).update(stock=5, per_player_limit=1)
    real_offer.refresh_from_db()
    return real_offer


def held(offer: Offer) -> tuple[int | None, int]:
    """(stock left, limit slots taken) of the offer."""
    taken = OfferPurchaseCount.objects.filter(offer=offer).values_list("count", flat=True)
    return Offer.objects.get(pk=offer.pk).stock, sum(taken)


def buy(player, offer, key: str = "k"):
    result = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)
    assert result.status_code == 202, result.body
    return result


def test_an_unpaid_sandbox_checkout_expires_at_its_end_and_gives_back_what_it_held_once(
    player, player_client, limited, settings
):
    body = buy(player, limited).body
    payment = Payment.objects.get()
    end = payment.created_at + timedelta(seconds=settings.CHECKOUT_EXPIRY_SECONDS)
    end = end.replace(microsecond=0)  # whole seconds, as Stripe takes it
    assert payment.expires_at == end
    assert body["payment"]["expires_at"] == end.isoformat().replace("+00:00", "Z")
    assert held(limited) == (4, 1)

    grace = timedelta(seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS)
    assert expire(end + grace - timedelta(seconds=1)) == 0  # a payment may still be on its way
    assert Purchase.objects.get().status == "pending"

    assert expire(end + grace) == 1
    assert expire(end + grace + DAY) == 0  # once

    payment.refresh_from_db()
    purchase = Purchase.objects.get()
    assert (payment.status, purchase.status) == ("expired", "expired")
    assert held(limited) == (5, 0)  # given back exactly once
    assert not LedgerEntry.objects.filter(reason="purchase").exists()
    shown = player_client.get(f"/api/v1/shop/purchases/{purchase.pk}").json()
    assert (shown["status"], shown["payment"]["status"]) == ("expired", "expired")
    assert buy(player, limited, key="k2").status_code == 202  # the limit slot is free again


def test_the_stock_and_slot_come_back_once_whichever_ends_a_stripe_checkout_first(
    api_client, player_client, player, limited, checkout, settings
):
    """Stripe's checkout.session.expired after our sweep, a redelivery of it, and our sweep after
    Stripe's event: one release."""
    first = start_stripe(player_client, limited, key="k1").json()["purchase_id"]
    end = Payment.objects.get(purchase_id=first).expires_at
    grace = timedelta(seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS)

    assert expire(end + grace) == 1
    expired = stripe_event("checkout.session.expired", {"id": "cs_test_1"}, "evt_exp_1")
    assert post_stripe(api_client, expired).status_code == 200
    again = post_stripe(api_client, expired)

    assert again.json()["duplicate"] is True
    assert ProviderEvent.objects.get(event_id="evt_exp_1").status == "processed"
    assert Purchase.objects.get(pk=first).status == "expired"
    assert held(limited) == (5, 0)

    checkout.replace(responses.POST, SESSIONS, json={"id": "cs_test_2", "url": "https://p/2"})
    second = start_stripe(player_client, limited, key="k2").json()["purchase_id"]
    assert held(limited) == (4, 1)
    expired = stripe_event("checkout.session.expired", {"id": "cs_test_2"}, "evt_exp_2")
    assert post_stripe(api_client, expired).status_code == 200
    assert expire(Payment.objects.get(purchase_id=second).expires_at + grace + DAY) == 0

    assert Purchase.objects.get(pk=second).status == "expired"
    assert held(limited) == (5, 0)


def test_a_payment_reported_after_the_expiry_is_kept_flagged_and_alerted_not_granted(
    api_client, player_client, player, limited, checkout, settings, caplog
):
    """The money came in after the stock and slot went back: nothing is granted that nothing was
    reserved for, the payment is recorded as paid, and an operator is told to grant or refund."""
    purchase_id = start_stripe(player_client, limited).json()["purchase_id"]
    end = Payment.objects.get().expires_at
    expire(end + timedelta(seconds=settings.PAYMENTS_SWEEP_GRACE_SECONDS))

    with caplog.at_level(logging.ERROR, logger="apps.shop.services.fulfilment"):
        assert post_stripe(api_client, completed(purchase_id=purchase_id)).status_code == 200

    payment, purchase = Payment.objects.get(), Purchase.objects.get()
    assert (payment.status, payment.payment_reference) == ("succeeded", "pi_1")  # money kept
    assert (purchase.status, purchase.needs_attention) == ("expired", True)
    assert purchase.note == "Paid after the purchase was expired; not granted."
    assert balance(player, "gems") == 0
    assert not LedgerEntry.objects.filter(reason="purchase").exists()
    assert held(limited) == (5, 0)  # not taken again either
    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert alerts == [
        f"ALERT purchase {purchase_id}: Paid after the purchase was expired; not granted. "
        "Grant or refund it."
    ]

    # The studio refunds it at Stripe: the purchase ends refunded, nothing to claw back.
    refunded = stripe_event(
        "charge.refunded", {"payment_intent": "pi_1", "refunded": True}, event_id="evt_refund"
    )
    assert post_stripe(api_client, refunded).status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert held(limited) == (5, 0)


def test_stripe_is_asked_to_end_the_session_when_the_checkout_ends(
    player_client, real_offer, checkout, settings
):
    settings.CHECKOUT_EXPIRY_SECONDS = 2 * 3600
    start_stripe(player_client, real_offer)

    payment = Payment.objects.get()
    end = (payment.created_at + timedelta(hours=2)).replace(microsecond=0)
    form = parse_qs(checkout.calls[0].request.body)
    assert form["expires_at"] == [str(int(end.timestamp()))]
    assert payment.expires_at == end


def test_at_24_hours_stripe_ends_the_session_itself_and_its_end_is_kept(
    player_client, real_offer, checkout, settings
):
    """Stripe's default is its maximum: asking for it exactly would be refused by a clock a
    second ahead of Stripe's. The end Stripe reports is the one the sweep waits for."""
    reported = int((timezone.now() + DAY + timedelta(minutes=3)).timestamp())
    checkout.replace(
        responses.POST,
        SESSIONS,
        json={"id": "cs_test_1", "url": "https://p/1", "expires_at": reported},
    )
    body = start_stripe(player_client, real_offer).json()

    form = parse_qs(checkout.calls[0].request.body)
    assert "expires_at" not in form
    payment = Payment.objects.get()
    assert payment.expires_at == datetime.fromtimestamp(reported, tz=UTC)
    assert body["payment"]["expires_at"] == payment.expires_at.isoformat().replace("+00:00", "Z")


def submit_delayed_payment(api_client, player_client, offer) -> int:
    """A Stripe checkout the buyer completed with a delayed payment method (a bank debit): the
    session reported completed and unpaid. Its purchase's id."""
    purchase_id = start_stripe(player_client, offer).json()["purchase_id"]
    pending = stripe_event(
        "checkout.session.completed",
        {"id": "cs_test_1", "payment_status": "unpaid", "metadata": {"purchase_id": purchase_id}},
        event_id="evt_pending",
    )
    assert post_stripe(api_client, pending).status_code == 200
    return purchase_id


def async_payment_succeeded(purchase_id: int) -> bytes:
    return completed(purchase_id=purchase_id, event_id="evt_async").replace(
        b"checkout.session.completed", b"checkout.session.async_payment_succeeded"
    )


def test_a_stripe_session_awaiting_a_delayed_payment_no_longer_expires(
    api_client, player_client, player, real_offer, checkout
):
    purchase_id = submit_delayed_payment(api_client, player_client, real_offer)

    assert Payment.objects.get().expires_at is None
    assert ProviderEvent.objects.get().outcome == "submitted awaiting async payment"
    assert expire(timezone.now() + 3 * DAY) == 0

    assert post_stripe(api_client, async_payment_succeeded(purchase_id)).status_code == 200
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100


def test_a_delayed_payment_still_undecided_after_the_alert_age_is_flagged_once_not_closed(
    api_client, player_client, player, real_offer, checkout, settings, caplog
):
    """Submitted, it no longer expires: if the processor's news never comes (the endpoint not
    subscribed to the async events), nothing would end it and its reservation would be held
    unseen. The sweeper flags it for an operator, once; the money may still come."""
    from apps.payments.services import recovery

    purchase_id = submit_delayed_payment(api_client, player_client, real_offer)
    submitted_at = Payment.objects.get().updated_at
    alert_age = timedelta(seconds=settings.PAYMENTS_UNDECIDED_ALERT_SECONDS)

    def sweep(now: datetime) -> int:
        report = recovery.sweep(event_task=None, callback_task=None, now=now)
        return report.undecided_payments

    assert sweep(submitted_at + alert_age - timedelta(seconds=1)) == 0
    assert not Payment.objects.get().needs_attention
    with caplog.at_level(logging.ERROR, logger="apps.payments.services.recovery"):
        assert sweep(submitted_at + alert_age) == 1
    assert sweep(submitted_at + 2 * alert_age) == 0  # once

    payment, purchase = Payment.objects.get(), Purchase.objects.get()
    assert (payment.status, payment.needs_attention) == ("created", True)
    assert (purchase.status, purchase.needs_attention) == ("pending", True)
    assert "still undecided" in caplog.text and "ALERT payments" in caplog.text
    assert (
        post_stripe(api_client, async_payment_succeeded(purchase_id)).status_code == 200
    )  # the money came after all
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100


def test_a_sandbox_checkout_past_its_end_takes_no_pay_or_cancel(
    api_client, player, limited, settings
):
    settings.PUBLIC_BASE_URL = "http://panel.test"
    buy(player, limited)
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = f"/payments/sandbox/checkout/{payment.public_token}"

    for action in ("paid", "cancel"):
        response = api_client.post(url, {"action": action}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "checkout_expired")
    page = api_client.get(url).content.decode()

    assert not SandboxCallback.objects.exists()
    assert "This checkout expired unpaid" in page and "<button" not in page
    assert Payment.objects.get().status == "created"  # the sweep marks it, a minute later
    assert held(limited) == (4, 1)


def test_a_sandbox_checkout_paid_in_time_is_left_to_its_callback(
    api_client, player, limited, settings, sandbox_callbacks
):
    buy(player, limited)
    payment = Payment.objects.get()
    assert payment.expires_at is not None
    # Pay pressed in time; its callback is not delivered yet (nothing commits in this test).
    response = api_client.post(
        f"/payments/sandbox/checkout/{payment.public_token}", {}, format="json"
    )
    assert response.status_code == 202

    assert Payment.objects.get().expires_at is None
    assert expire(timezone.now() + 3 * DAY) == 0

    from apps.payments.services.callbacks import deliver

    with committed():
        assert deliver(callback_pk=SandboxCallback.objects.get().pk) is True
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    assert held(limited) == (4, 1)  # bought: the stock and slot stay taken


def test_the_beat_task_expires_due_checkouts(player, limited, settings):
    from apps.payments.tasks import expire_checkouts

    entry = settings.CELERY_BEAT_SCHEDULE["expire-checkouts"]
    assert entry["task"] == expire_checkouts.name == "apps.payments.tasks.expire_checkouts"
    buy(player, limited)
    Payment.objects.update(expires_at=timezone.now() - timedelta(hours=1))

    assert expire_checkouts.apply().get() == 1
    assert Purchase.objects.get().status == "expired"
    assert held(limited) == (5, 0)


def test_the_sweep_goes_through_every_due_checkout_in_batches(player, game, settings):
    from tests.shop.helpers import make_economy, make_offer

    settings.PAYMENTS_SWEEP_BATCH = 2
    make_economy(game)
    offers = [
        make_offer(game, name=f"o{n}", real_money=True, price_currency="USD", price_amount=99)
        for n in range(5)
    ]
    for offer in offers:
        buy(player, offer, key=f"k{offer.pk}")
    Payment.objects.update(expires_at=timezone.now() - timedelta(hours=1))

    assert expire(timezone.now()) == 5
    assert set(Purchase.objects.values_list("status", flat=True)) == {"expired"}


def test_checkouts_opened_before_the_upgrade_get_stripes_24_hours(player, real_offer):
    migration = importlib.import_module("apps.payments.migrations.0009_payment_expires_at")
    buy(player, real_offer, key="open")
    buy(player, real_offer, key="closed")
    buy(player, real_offer, key="unopened")
    Payment.objects.update(expires_at=None)
    open_, closed, unopened = Payment.objects.order_by("pk")
    Payment.objects.filter(pk=closed.pk).update(status="failed")
    Payment.objects.filter(pk=unopened.pk).update(checkout_url="")

    migration.end_open_checkouts(django_apps, None)

    ends = dict(Payment.objects.values_list("pk", "expires_at"))
    assert ends == {open_.pk: open_.created_at + DAY, closed.pk: None, unopened.pk: None}


@pytest.mark.skipif(not HAS_POSTGRES, reason="needs PostgreSQL's planner")
def test_the_sweep_reads_the_open_checkouts_index_not_every_payment(player, real_offer):
    """Every minute: the due checkouts are read through payment_open_expiry."""
    buy(player, real_offer)
    with CaptureQueriesContext(connection) as queries:
        expire(timezone.now() + 3 * DAY)
    [sql] = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "payments_payment"."id"')
        and '"expires_at" <=' in query["sql"]
        and "FOR UPDATE" not in query["sql"]  # the batch, not each checkout's claim
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a usable index is used on few rows
        cursor.execute("EXPLAIN " + sql)
        used = "\n".join(row[0] for row in cursor.fetchall())
    assert "payment_open_expiry" in used, used
