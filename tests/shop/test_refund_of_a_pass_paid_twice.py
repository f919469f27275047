"""A premium pass paid for twice (two checkouts of one pass) is granted once: the second
purchase is flagged for an operator, who refunds it. That refund takes back what the second
purchase granted and nothing else: the pass came from the first purchase, so the second neither
lists it as granted nor asks, in its refund's shortfall, for the pass to be revoked."""

from __future__ import annotations

import pytest

from apps.battlepass.models import SeasonPass
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import fulfil_purchase, refund_purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import balance, premium_pass_offer

pytestmark = pytest.mark.django_db


def start(player, offer, key: str) -> Purchase:
    result = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)
    assert result.status_code == 202, result.body
    return Purchase.objects.get(pk=result.body["purchase_id"])


def test_refunding_the_second_payment_of_a_pass_leaves_the_pass_out_of_it(player, game):
    season, offer = premium_pass_offer(game)
    phone, console = start(player, offer, "phone"), start(player, offer, "console")
    fulfil_purchase(purchase_id=phone.pk)
    second, _ = fulfil_purchase(purchase_id=console.pk)
    assert second.needs_attention  # already held: an operator refunds it
    assert second.granted == [{"currency": "gems", "quantity": 10}]

    refunded = refund_purchase(purchase_id=console.pk, kind="refund", note="paid twice")

    assert refunded.status == Purchase.Status.REFUNDED
    assert refunded.refund_shortfall == []  # nothing this purchase granted is left to take back
    assert balance(player, "gems") == 10  # the first purchase's
    assert SeasonPass.objects.get(player=player, season=season).premium
    # The first purchase granted the pass: its refund still says the pass stays.
    first = refund_purchase(purchase_id=phone.pk, kind="refund")
    assert [line.get("premium_pass") for line in first.refund_shortfall] == [season.pk]
