"""Ending a real-money purchase whose checkout nobody will pay: a failed attempt ends its payment
and its purchase together, the sweeps close each checkout in its own transaction, and a key
that never stored its 202 answers how the checkout ended."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.payments.errors import ProviderUnavailable
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import sandbox
from apps.payments.services import checkout as checkout_service
from apps.payments.services import expiry, recovery
from apps.payments.services.processing import process_event
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services import purchase as purchase_service
from apps.shop.services.purchase import purchase_offer

pytestmark = pytest.mark.django_db


class FakeTask:
    name = "fake"

    def delay(self, pk: int) -> None:
        pass


class Crash(Exception):
    """The process dying at that point."""


def sweep(now):
    return recovery.sweep(event_task=FakeTask(), callback_task=FakeTask(), now=now)


def after_unopened_timeout(settings):
    return timezone.now() + timedelta(seconds=settings.PAYMENTS_UNOPENED_CHECKOUT_SECONDS + 1)


@pytest.fixture
def limited(real_offer):
    """Five left, two per player: what an unpaid checkout holds."""
    Offer.objects.filter(pk=real_offer.pk).update(stock=5, per_player_limit=2)
    real_offer.refresh_from_db()
    return real_offer


def held(offer: Offer) -> tuple[int | None, int]:
    """(stock left, limit slots taken) of the offer."""
    taken = OfferPurchaseCount.objects.filter(offer=offer).values_list("count", flat=True)
    return Offer.objects.get(pk=offer.pk).stock, sum(taken)


def unopened_checkout(player, offer, key: str, monkeypatch) -> Payment:
    """A purchase whose process died before the processor answered: rows committed, no URL."""

    def process_dies(**kwargs):
        raise Crash("worker killed while the processor answered")

    with monkeypatch.context() as patch:
        patch.setattr(checkout_service, "open_checkout", process_dies)
        with pytest.raises(Crash):
            purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)
    return Payment.objects.get(purchase__idempotency_key=key)


# -- A failed attempt: the payment fails and the purchase ends together -----------------------


def test_a_crash_between_failing_the_payment_and_closing_the_purchase_leaves_the_sweeper_a_checkout_to_close(  # noqa: E501
    player, limited, settings, monkeypatch
):
    """The processor refused the checkout; the process died after the payment was marked failed
    and before the purchase gave back its stock and slot. Those used to be two transactions:
    the payment stayed failed, the purchase pending holding its reservation, and no sweep
    looked at a failed payment. Now the failure is one transaction: rolled back whole, the
    checkout is still an unopened one, which the sweeper closes once."""

    def refused(**kwargs):
        raise ProviderUnavailable("The processor did not answer in time.")

    def dies(**kwargs):
        raise Crash("worker killed")

    monkeypatch.setattr(checkout_service, "open_checkout", refused)
    monkeypatch.setattr(purchase_service, "close_unpaid", dies)
    with pytest.raises(Crash):
        purchase_offer(player=player, offer_id=limited.pk, quantity=1, idempotency_key="k")
    monkeypatch.undo()

    payment, purchase = Payment.objects.get(), Purchase.objects.get()
    assert (payment.status, purchase.status) == ("created", "pending")  # nothing half done
    assert held(limited) == (4, 1)

    report = sweep(after_unopened_timeout(settings))

    assert report.unopened_checkouts == 1
    payment.refresh_from_db()
    purchase.refresh_from_db()
    assert (payment.status, purchase.status) == ("failed", "failed")
    assert held(limited) == (5, 0)  # given back
    assert sweep(after_unopened_timeout(settings) + timedelta(days=1)).unopened_checkouts == 0
    assert held(limited) == (5, 0)  # once


def test_a_failed_attempt_ends_its_payment_purchase_and_key_at_once(player, limited, monkeypatch):
    def refused(**kwargs):
        raise ProviderUnavailable("The processor did not answer in time.")

    monkeypatch.setattr(checkout_service, "open_checkout", refused)
    first = purchase_offer(player=player, offer_id=limited.pk, quantity=1, idempotency_key="k")
    monkeypatch.undo()

    payment, purchase = Payment.objects.get(), Purchase.objects.get()
    assert (payment.status, purchase.status) == ("failed", "failed")
    assert held(limited) == (5, 0)
    assert (first.status_code, first.body["detail"]) == (
        503,
        "The processor did not answer in time.",
    )
    again = purchase_offer(player=player, offer_id=limited.pk, quantity=1, idempotency_key="k")
    assert (again.status_code, again.body) == (503, first.body)


# -- The sweeps close each checkout in its own transaction -------------------------------------


class FailingFor:
    """The shop's handler, failing for one purchase (a row the close cannot handle)."""

    def __init__(self, shop, purchase_id: int) -> None:
        self.shop, self.purchase_id = shop, purchase_id

    def closed(self, **kwargs) -> None:
        if kwargs["purchase_id"] == self.purchase_id:
            raise RuntimeError("this purchase cannot be closed")
        self.shop.closed(**kwargs)


def test_a_checkout_never_opened_that_cannot_be_closed_neither_undoes_nor_stops_the_others(
    player, limited, settings, monkeypatch, caplog
):
    first = unopened_checkout(player, limited, "k1", monkeypatch)
    second = unopened_checkout(player, limited, "k2", monkeypatch)
    assert held(limited) == (3, 2)
    failing = FailingFor(recovery.purchase_outcomes(), first.purchase_id)
    monkeypatch.setattr(recovery, "purchase_outcomes", lambda: failing)

    with caplog.at_level(logging.ERROR, logger="apps.payments.services.closing"):
        report = sweep(after_unopened_timeout(settings))

    assert report.unopened_checkouts == 1
    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "created", second.pk: "failed"}  # the second committed
    assert Purchase.objects.get(pk=second.purchase_id).status == "failed"
    assert held(limited) == (4, 1)
    assert [r.getMessage() for r in caplog.records] == [
        f"payments: payment {first.pk} not closed; the next run tries again"
    ]

    monkeypatch.undo()
    assert sweep(after_unopened_timeout(settings)).unopened_checkouts == 1  # the next run
    assert held(limited) == (5, 0)


def test_an_expired_checkout_that_cannot_be_closed_neither_undoes_nor_stops_the_others(
    player, limited, monkeypatch
):
    for key in ("k1", "k2"):
        purchase_offer(player=player, offer_id=limited.pk, quantity=1, idempotency_key=key)
    Payment.objects.update(expires_at=timezone.now() - timedelta(hours=1))
    first, second = Payment.objects.order_by("pk")
    failing = FailingFor(expiry.purchase_outcomes(), first.purchase_id)
    monkeypatch.setattr(expiry, "purchase_outcomes", lambda: failing)

    assert expiry.expire_checkouts() == 1

    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "created", second.pk: "expired"}
    assert held(limited) == (4, 1)
    monkeypatch.undo()
    assert expiry.expire_checkouts() == 1
    assert held(limited) == (5, 0)


# -- What the key of a checkout opened, never answered, then ended says ------------------------


def opened_never_answered(player, offer, monkeypatch) -> Payment:
    """The checkout opened, then the process died before the key stored its 202."""

    def dies(purchase, payment):
        raise Crash("worker killed right after the checkout opened")

    with monkeypatch.context() as patch:
        patch.setattr(purchase_service, "store_pending_answer", dies)
        with pytest.raises(Crash):
            purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    payment = Payment.objects.get()
    assert payment.checkout_url and Purchase.objects.get().response_body is None
    return payment


def replay(player, offer):
    return purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")


def test_the_key_of_a_checkout_opened_then_expired_says_it_expired(player, limited, monkeypatch):
    opened_never_answered(player, limited, monkeypatch)
    Payment.objects.update(expires_at=timezone.now() - timedelta(hours=1))

    assert expiry.expire_checkouts() == 1

    answer = replay(player, limited)
    assert Purchase.objects.get().status == "expired"
    assert (answer.status_code, answer.body["code"], answer.body["detail"]) == (
        409,
        "checkout_expired",
        "The checkout expired unpaid; buy again with a new Idempotency-Key.",
    )
    assert Purchase.objects.get().outcome == "checkout_expired"
    assert held(limited) == (5, 0)


def test_the_key_of_a_checkout_opened_then_cancelled_says_so(
    player, limited, monkeypatch, settings
):
    payment = opened_never_answered(player, limited, monkeypatch)
    body, _ = sandbox.build_event(payment=payment, action="cancel")
    event = ProviderEvent.objects.create(
        provider="sandbox",
        event_id="sbxevt_cancel",
        game_id=player.game_id,
        event_type="payment.canceled",
        payload=sandbox.parse_notification(
            body=body,
            headers={
                sandbox.SIGNATURE_HEADER: sandbox.signing.sign(
                    secret=settings.SANDBOX_PAYMENT_SECRET, body=body
                )
            },
        ).payload,
    )

    assert process_event(event_pk=event.pk).status == "processed"

    answer = replay(player, limited)
    assert (Payment.objects.get().status, Purchase.objects.get().status) == ("failed", "failed")
    assert (answer.status_code, answer.body["code"], answer.body["detail"]) == (
        409,
        "payment_cancelled",
        "The buyer cancelled the checkout; nothing was charged; buy again with a new "
        "Idempotency-Key.",
    )
    assert Purchase.objects.get().outcome == "payment_cancelled"


def test_the_key_of_a_checkout_opened_then_failed_says_the_payment_failed(
    player, limited, monkeypatch
):
    """Stripe's async_payment_failed (a bank debit refused days later) is a failed payment, not
    the buyer's cancel."""
    opened_never_answered(player, limited, monkeypatch)
    event = stripe_failed_event(player, Payment.objects.get())

    assert process_event(event_pk=event.pk).status == "processed"

    answer = replay(player, limited)
    assert (answer.status_code, answer.body["code"]) == (409, "payment_failed")
    assert answer.body["detail"] == (
        "The payment failed; nothing was charged; buy again with a new Idempotency-Key."
    )
    assert (Purchase.objects.get().status, Purchase.objects.get().outcome) == (
        "failed",
        "payment_failed",
    )
    assert held(limited) == (5, 0)


def stripe_failed_event(player, payment: Payment) -> ProviderEvent:
    Payment.objects.filter(pk=payment.pk).update(provider="stripe", external_id="cs_test_9")
    return ProviderEvent.objects.create(
        provider="stripe",
        event_id="evt_failed",
        game_id=player.game_id,
        event_type="checkout.session.async_payment_failed",
        payload={"data": {"object": {"id": "cs_test_9", "metadata": {}}}},
    )


def test_the_key_of_a_checkout_never_opened_says_it_could_not_be_opened(
    player, limited, settings, monkeypatch
):
    unopened_checkout(player, limited, "k", monkeypatch)

    assert sweep(after_unopened_timeout(settings)).unopened_checkouts == 1

    answer = replay(player, limited)
    assert (answer.status_code, answer.body["code"], answer.body["detail"]) == (
        503,
        "payment_provider_unavailable",
        "The checkout could not be opened; buy again with a new Idempotency-Key.",
    )
    assert Purchase.objects.get().outcome == "payment_provider_unavailable"


def test_a_key_that_stored_its_202_keeps_it_when_the_checkout_expires(player, limited):
    first = replay(player, limited)
    Payment.objects.update(expires_at=timezone.now() - timedelta(hours=1))

    assert expiry.expire_checkouts() == 1

    again = replay(player, limited)
    assert (again.status_code, again.body) == (202, first.body)
    assert Purchase.objects.get().status == "expired"
