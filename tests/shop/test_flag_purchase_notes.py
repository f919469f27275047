"""A purchase flagged for an operator (a partial refund, a dispute closed, a refund reversed)
keeps what it noted before: the new note is added after it, within the column, and a purchase
that ended before outcomes were recorded still tells its outcome (read from its note before)."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from apps.payments.providers.base import PaidAmount
from apps.shop.models import Purchase
from apps.shop.selectors import ended_outcome
from apps.shop.services.fulfilment import NOTE_LENGTH, flag_purchase, fulfil_purchase
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.shop.helpers import make_gem_pack, start_purchase

REVERSED = "Apple reversed a refund: re-grant by hand."


@pytest.fixture
def gem_pack(game):
    return make_gem_pack(game)


start = start_purchase


@pytest.mark.django_db
def test_a_flag_keeps_the_note_the_purchase_had(player, gem_pack):
    purchase = start(player, gem_pack)
    fulfil_purchase(purchase_id=purchase.pk, paid=PaidAmount(amount=99, currency="usd"))
    earlier = Purchase.objects.get(pk=purchase.pk).note
    assert earlier.startswith("Paid ") and "not granted" in earlier

    flag_purchase(purchase_id=purchase.pk, note=REVERSED)

    flagged = Purchase.objects.get(pk=purchase.pk)
    assert flagged.needs_attention
    assert flagged.note == f"{earlier} | {REVERSED}"  # the newest last


@pytest.mark.django_db
def test_a_long_earlier_note_is_shortened_to_keep_the_new_one_whole(player, gem_pack):
    purchase = start(player, gem_pack)
    Purchase.objects.filter(pk=purchase.pk).update(note="x" * NOTE_LENGTH)

    flag_purchase(purchase_id=purchase.pk, note=REVERSED)

    note = Purchase.objects.get(pk=purchase.pk).note
    assert len(note) == NOTE_LENGTH
    assert note.startswith("xxx") and note.endswith(f"x… | {REVERSED}")


@pytest.mark.django_db
def test_the_same_news_twice_is_noted_once(player, gem_pack):
    purchase = start(player, gem_pack)

    flag_purchase(purchase_id=purchase.pk, note=REVERSED)
    flag_purchase(purchase_id=purchase.pk, note=REVERSED)

    assert Purchase.objects.get(pk=purchase.pk).note == REVERSED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("note", "outcome"),
    [("insufficient_funds", "insufficient_funds"), ("checkout never opened", None)],
)
def test_a_purchase_that_ended_before_outcomes_were_recorded_keeps_its_outcome(
    player, gem_pack, note, outcome
):
    purchase = start(player, gem_pack)
    Purchase.objects.filter(pk=purchase.pk).update(status="failed", note=note, outcome="")
    told = ended_outcome(Purchase.objects.get(pk=purchase.pk))
    assert told is not None and (outcome is None or told == outcome)

    flag_purchase(purchase_id=purchase.pk, note=REVERSED)

    flagged = Purchase.objects.get(pk=purchase.pk)
    assert ended_outcome(flagged) == told
    assert flagged.note == f"{note} | {REVERSED}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_flags_at_once_both_stay(player, gem_pack):
    purchase = start(player, gem_pack)
    held = threading.Event()

    with transaction.atomic():
        # Another writer holds the purchase (a fulfilment, say) while two flags arrive.
        Purchase.objects.select_for_update().get(pk=purchase.pk)
        first = in_thread(lambda: flag_purchase(purchase_id=purchase.pk, note="first"))
        wait_until_a_statement_waits_for_a_lock()
        second = in_thread(lambda: flag_purchase(purchase_id=purchase.pk, note="second"))
        held.wait(0.5)  # the second flag reads (or waits) meanwhile
    first.result(10)
    second.result(10)

    note = Purchase.objects.get(pk=purchase.pk).note
    assert note in ("first | second", "second | first")
