"""Fulfilling a paid premium pass beside another value move of the same player, on PostgreSQL:
every path locks the season pass before the wallets, so the two wait for each other in turn
instead of deadlocking."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from apps.battlepass.models import SeasonPass
from apps.inventory.services import Change, apply_changes
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import fulfil_purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import balance, fund, premium_pass_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_paid_premium_pass_waits_for_a_claim_holding_the_season_pass(player, game):
    season, offer = premium_pass_offer(game)
    purchase_id = purchase_offer(
        player=player, offer_id=offer.pk, quantity=1, idempotency_key="k"
    ).body["purchase_id"]
    fund(player, 1, "gems")
    assert SeasonPass.objects.filter(player=player, season=season).exists()  # made by reserve
    pass_held = threading.Event()

    def claim_like() -> None:
        """As an event claim: season XP (the pass's lock) first, then its gems."""
        try:
            with transaction.atomic():
                SeasonPass.objects.select_for_update().get(player=player, season=season)
                pass_held.set()
                time.sleep(0.5)  # the payment's fulfilment starts meanwhile
                apply_changes(
                    player=player,
                    changes=[Change("currency", "gems", 5)],
                    reason="event",
                    idempotency_key="claim",
                )
        finally:
            connection.close()

    def pay() -> Purchase:
        assert pass_held.wait(5)
        try:
            return fulfil_purchase(purchase_id=purchase_id)[0]
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        claimed, paid = pool.submit(claim_like), pool.submit(pay)
        claimed.result()
        fulfilled = paid.result()

    assert fulfilled.status == Purchase.Status.COMPLETED and not fulfilled.needs_attention
    assert balance(player, "gems") == 1 + 5 + 10
    assert SeasonPass.objects.get(player=player, season=season).premium
