"""A store purchase fulfilled while the buyer's erasure is under way grants nothing under the
tombstone: a purchase completing after the erasure is flagged, paid but not granted
(docs/guide/privacy.md), however the two interleave. The receipt's player was checked before
the erasure committed; the grant's writes do not wait for an erasure."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.accounts.models import Player
from apps.analytics.models import RawEvent
from apps.inventory.models import LedgerEntry, Wallet
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import fulfil_purchase
from apps.shop.services.purchase import record_store_purchase
from tests.conftest import while_an_erasure_waits_to_commit
from tests.shop.helpers import make_economy, make_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gem_pack(game):
    make_economy(game)
    return make_offer(game, real_money=True, price_currency="USD", price_amount=499)


def redeem(player, offer) -> Purchase:
    """As a store receipt's grant (shop.services.receipts): the purchase made and fulfilled in
    one transaction, for the player whose token the request checked."""
    with transaction.atomic():
        purchase = record_store_purchase(
            player=player, offer=offer, provider="google_play", key="google_play:t1"
        )
        fulfilled, _ = fulfil_purchase(purchase_id=purchase.pk)
    return fulfilled


def test_a_receipt_checked_before_an_erasure_commits_waits_for_it_and_is_not_granted(
    player, gem_pack
):
    checked = Player.objects.get(pk=player.pk)  # the request's player, token checked
    redeemed = while_an_erasure_waits_to_commit(player.pk, lambda: redeem(checked, gem_pack))
    purchase = redeemed.result(10)

    assert purchase.status == Purchase.Status.PENDING
    assert purchase.needs_attention
    assert purchase.note.startswith("Paid but not granted")
    assert not LedgerEntry.objects.filter(player=player).exists()
    assert not Wallet.objects.filter(player=player, balance__gt=0).exists()
    assert not RawEvent.objects.filter(player=player, name="purchase_completed").exists()


def test_a_fulfilment_loads_its_purchase_offer_and_player(player, gem_pack):
    purchase = redeem(Player.objects.get(pk=player.pk), gem_pack)

    assert purchase.status == Purchase.Status.COMPLETED
    assert (purchase.offer, purchase.player) == (gem_pack, player)
    assert Wallet.objects.get(player=player, currency__code="gems").balance == 10
