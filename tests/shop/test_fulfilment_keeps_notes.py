"""What fulfilment, closing and refunding note on a purchase is added after what it noted
before (an operator's words, a flag, an earlier refusal), with the one helper
(`fulfilment.appended_note`), instead of replacing it. The note a checkout's closing left is the
one exception: a payment reported after the purchase ended replaces it (its outcome keeps how
it ended, written down first for a row from before outcomes were recorded), unless something
flagged the purchase since."""

from __future__ import annotations

import pytest

from apps.payments.providers.base import PaidAmount
from apps.shop.models import Purchase
from apps.shop.selectors import ended_outcome
from apps.shop.services.fulfilment import (
    NOTE_LENGTH,
    close_unpaid,
    flag_purchase,
    fulfil_purchase,
    refund_purchase,
)
from apps.shop.services.receipts import _flag_passes_charged_but_not_granted
from tests.shop.helpers import (
    make_economy,
    make_gem_pack,
    make_offer,
    premium_pass_offer,
    start_purchase,
)

pytestmark = pytest.mark.django_db
OPERATOR = "Ticket 42: the player was told we would look."


@pytest.fixture
def gem_pack(game):
    return make_gem_pack(game)


start = start_purchase


def noted(purchase: Purchase, note: str, **fields) -> None:
    Purchase.objects.filter(pk=purchase.pk).update(note=note, **fields)


def note_of(purchase: Purchase) -> str:
    return Purchase.objects.get(pk=purchase.pk).note


def test_a_refund_keeps_the_note_an_operator_left(player, gem_pack):
    purchase = start(player, gem_pack)
    fulfil_purchase(purchase_id=purchase.pk, paid=PaidAmount(amount=199, currency="usd"))
    noted(purchase, OPERATOR)

    refund_purchase(purchase_id=purchase.pk, kind="refund")

    assert note_of(purchase) == f"{OPERATOR} | refund"


def test_a_refund_keeps_why_the_purchase_was_flagged(player, gem_pack):
    purchase = start(player, gem_pack)
    fulfil_purchase(purchase_id=purchase.pk, paid=PaidAmount(amount=99, currency="usd"))
    flagged = note_of(purchase)
    assert "Paid 99 USD but the price is 199 USD" in flagged

    refund_purchase(purchase_id=purchase.pk, kind="refund", note="refunded by Stripe")

    refunded = Purchase.objects.get(pk=purchase.pk)
    assert refunded.status == "refunded"
    assert refunded.note == f"{flagged} | refunded by Stripe"


def test_a_refund_of_a_purchase_without_a_note_notes_only_the_refund(player, gem_pack):
    purchase = start(player, gem_pack)
    fulfil_purchase(purchase_id=purchase.pk, paid=None)

    refund_purchase(purchase_id=purchase.pk, kind="chargeback")

    assert note_of(purchase) == "chargeback"


def test_closing_a_checkout_keeps_a_flag_left_on_it(player, gem_pack):
    purchase = start(player, gem_pack)
    flag_purchase(purchase_id=purchase.pk, note=OPERATOR)

    close_unpaid(
        purchase_id=purchase.pk,
        status=Purchase.Status.EXPIRED,
        note="checkout expired unpaid",
        outcome="checkout_expired",
    )

    closed = Purchase.objects.get(pk=purchase.pk)
    assert (closed.status, closed.outcome) == ("expired", "checkout_expired")
    assert closed.note == f"{OPERATOR} | checkout expired unpaid"


def test_a_wrong_amount_keeps_the_note_before_it(player, gem_pack):
    purchase = start(player, gem_pack)
    noted(purchase, OPERATOR)

    fulfil_purchase(purchase_id=purchase.pk, paid=PaidAmount(amount=99, currency="usd"))

    assert note_of(purchase) == (f"{OPERATOR} | Paid 99 USD but the price is 199 USD; not granted.")


def test_a_refused_grant_keeps_the_note_before_it(player, game):
    make_economy(game)
    sword = make_offer(
        game,
        real_money=True,
        price_currency="USD",
        price_amount=299,
        contents=[{"sku": "sword", "quantity": 1}],
    )
    first, second = start(player, sword, "k1"), start(player, sword, "k2")
    fulfil_purchase(purchase_id=first.pk, paid=None)  # the one sword the player can hold
    noted(second, OPERATOR)

    fulfil_purchase(purchase_id=second.pk, paid=None)

    note = note_of(second)
    assert note.startswith(f"{OPERATOR} | Paid but not granted: "), note


def test_a_premium_pass_already_held_keeps_the_note_before_it(player, game):
    season, offer = premium_pass_offer(game)
    first, second = start(player, offer, "k1"), start(player, offer, "k2")
    fulfil_purchase(purchase_id=first.pk, paid=None)
    noted(second, OPERATOR)

    fulfil_purchase(purchase_id=second.pk, paid=None)

    completed = Purchase.objects.get(pk=second.pk)
    assert (completed.status, completed.needs_attention) == ("completed", True)
    assert completed.note == (
        f"{OPERATOR} | Paid for the premium pass of season {season.pk}, already held."
    )


def test_paid_after_an_old_failure_keeps_its_outcome(player, gem_pack):
    """A purchase failed before outcomes were recorded said why in its note: the alert replaces
    that note, the outcome is written down first."""
    purchase = start(player, gem_pack)
    noted(purchase, "payment_provider_unavailable", status="failed", outcome="")

    fulfil_purchase(purchase_id=purchase.pk, paid=None)

    paid = Purchase.objects.get(pk=purchase.pk)
    assert paid.needs_attention
    assert paid.note == "Paid after the purchase was failed; not granted."
    assert paid.outcome == "payment_provider_unavailable"
    assert ended_outcome(paid) == "payment_provider_unavailable"


def test_paid_after_it_ended_keeps_a_flag_left_since(player, gem_pack):
    purchase = start(player, gem_pack)
    close_unpaid(
        purchase_id=purchase.pk,
        status=Purchase.Status.EXPIRED,
        note="checkout expired unpaid",
        outcome="checkout_expired",
    )
    flag_purchase(purchase_id=purchase.pk, note=OPERATOR)

    fulfil_purchase(purchase_id=purchase.pk, paid=None)
    fulfil_purchase(purchase_id=purchase.pk, paid=None)  # the payment reported again

    assert note_of(purchase) == (
        f"checkout expired unpaid | {OPERATOR} | Paid after the purchase was expired; not granted."
    )


def test_a_store_quantity_flag_keeps_itself_whole_after_a_long_note(player, game):
    _season, offer = premium_pass_offer(game)
    purchase = start(player, offer)
    Purchase.objects.filter(pk=purchase.pk).update(quantity=3, note="x" * (NOTE_LENGTH - 5))
    purchase = Purchase.objects.get(pk=purchase.pk)

    _flag_passes_charged_but_not_granted(purchase)

    note = note_of(purchase)
    assert len(note) <= NOTE_LENGTH
    assert note.endswith(" | store quantity 3 of a premium pass: one granted, refund 2"), note
    assert note.startswith("xxx")
