"""The sweeper closing a purchase stranded behind a payment that already ended, while that
payment's "paid" callback arrives (PostgreSQL, real threads): each purchase ends one way,
completed and granted or closed and flagged, its stock and limit slot given back only in the
second case and only once, and the ledger agrees with the balances."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import LedgerEntry
from apps.inventory.selectors import ledger_discrepancies
from apps.payments.models import Payment
from apps.payments.providers import sandbox
from apps.payments.services import recovery
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import in_thread
from tests.payments.test_checkout_expiry_races import closing_connection, deliver
from tests.payments.test_purchase_outcomes import FakeTask
from tests.shop.helpers import balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 12
STAGGER = 0.008  # seconds


def sweep_now() -> int:
    report = recovery.sweep(
        event_task=FakeTask(), callback_task=FakeTask(), now=timezone.now() + timedelta(hours=1)
    )
    return report.stranded_purchases


def stranded(player, offer, key: str) -> Payment:
    """A purchase pending behind a payment already `failed` (a row of an earlier release)."""
    result = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)
    assert result.status_code == 202, result.body
    payment = Payment.objects.get(pk=result.body["payment"]["payment_id"])
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    return payment


def assert_one_outcome_each(player, offer, stock: int) -> int:
    completed = 0
    for purchase in Purchase.objects.select_related("payment"):
        assert purchase.payment.status == "succeeded"  # the money is never lost
        grants = LedgerEntry.objects.filter(reason="purchase", reference=purchase.ledger_reference)
        if purchase.status == "completed":
            completed += 1
            assert not purchase.needs_attention
            assert grants.count() == 1
        else:
            assert (purchase.status, purchase.outcome) == ("failed", "payment_failed")
            assert purchase.needs_attention
            assert purchase.note == "Paid after the purchase was failed; not granted."
            assert not grants.exists()
    assert balance(player, "gems") == 100 * completed
    assert Offer.objects.get(pk=offer.pk).stock == stock - completed
    assert OfferPurchaseCount.objects.get(player=player, offer=offer).count == completed
    assert ledger_discrepancies(game_id=player.game_id)[1] == []
    return completed


def race(payment: Payment, sweep_delay: float) -> None:
    body, signature = sandbox.build_event(payment=payment, action="paid")
    start = threading.Barrier(2)

    def sweep() -> int:
        start.wait(5)
        time.sleep(sweep_delay)
        return sweep_now()

    def pay() -> int:
        start.wait(5)
        return deliver(body, signature)

    with ThreadPoolExecutor(2) as pool:
        swept = pool.submit(closing_connection(sweep))
        paid = pool.submit(closing_connection(pay))
        assert paid.result(timeout=30) == 200
        assert swept.result(timeout=30) in (0, 1)


def test_the_stranded_sweep_and_a_late_payment_at_once_end_each_purchase_one_way(
    player, real_offer
):
    Offer.objects.filter(pk=real_offer.pk).update(stock=ROUNDS, per_player_limit=ROUNDS)
    for round_ in range(ROUNDS):
        race(stranded(player, real_offer, key=f"k{round_}"), sweep_delay=STAGGER * round_)

    assert Purchase.objects.count() == ROUNDS
    assert_one_outcome_each(player, real_offer, stock=ROUNDS)


def test_a_payment_arriving_while_the_sweep_closes_its_purchase_is_kept_and_flagged(
    player, real_offer, monkeypatch
):
    """The sweep holds the payment's row: the payment's news waits for it, finds the purchase
    closed, records the money and flags the purchase; the reservation is given back once."""
    Offer.objects.filter(pk=real_offer.pk).update(stock=3, per_player_limit=3)
    payment = stranded(player, real_offer, key="k")
    body, signature = sandbox.build_event(payment=payment, action="paid")
    closing, go_on = threading.Event(), threading.Event()
    shop = recovery.purchase_outcomes()

    class HeldClose:
        def closed(self, **kwargs: object) -> None:
            closing.set()
            go_on.wait(10)
            shop.closed(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(recovery, "purchase_outcomes", HeldClose)
    swept = in_thread(sweep_now)
    assert closing.wait(10)
    paid = in_thread(lambda: deliver(body, signature))
    time.sleep(0.5)
    assert not paid.done()  # waiting on the payment's row
    go_on.set()

    assert swept.result(timeout=10) == 1
    assert paid.result(timeout=10) == 200
    assert assert_one_outcome_each(player, real_offer, stock=3) == 0
    assert in_thread(sweep_now).result(timeout=10) == 0


def test_the_sweep_skips_a_stranded_purchase_whose_payment_is_being_granted(
    player, real_offer, settings, tmp_path
):
    """The payment's news holds the row while it grants: the sweep skips it at once, neither
    waiting nor closing it, and the purchase completes with its reservation kept."""
    marker = tmp_path / "granting"
    settings.PAYMENTS_TEST_FULFILMENT_PAUSE_SECONDS = 1.5
    settings.PAYMENTS_TEST_FULFILMENT_MARKER = str(marker)
    Offer.objects.filter(pk=real_offer.pk).update(stock=3, per_player_limit=3)
    payment = stranded(player, real_offer, key="k")
    body, signature = sandbox.build_event(payment=payment, action="paid")

    paid = in_thread(lambda: deliver(body, signature))
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()
    began = time.monotonic()
    swept = in_thread(sweep_now).result(timeout=10)

    assert (swept, time.monotonic() - began < 1.0) == (0, True)
    assert paid.result(timeout=10) == 200
    assert in_thread(sweep_now).result(timeout=10) == 0
    assert assert_one_outcome_each(player, real_offer, stock=3) == 1
