"""A virtual-currency purchase whose player was checked before the player's erasure committed
grants nothing under the tombstone: it waits for the erasure and is refused, `410
player_erased`, with nothing written (no purchase, ledger line, balance, stock or limit slot
taken, analytics fact), however the two interleave. Its own writes take only KEY SHARE on the
player, which the erasure's NO KEY UPDATE does not hold up: the wallet lock reads the player's
row FOR SHARE (apps.inventory.services.LOCK_SQL)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.analytics.models import RawEvent
from apps.inventory.models import LedgerEntry
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import wallet_lock_at, while_an_erasure_waits_to_commit
from tests.shop.helpers import balance, fund, make_economy, make_offer


@pytest.fixture
def gem_pack(game) -> Offer:
    make_economy(game)
    return make_offer(game)  # 100 gold for 10 gems


@pytest.fixture
def limited_pack(game) -> Offer:
    """With a per-player limit and stock: the purchase locks its counter and the offer's stock
    before the wallets, and must not deadlock with the erasure."""
    make_economy(game)
    return make_offer(game, per_player_limit=2, stock=5)


def buy(player: Player, offer: Offer, key: str = "k1"):
    return purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)


def assert_nothing_bought(player: Player, offer: Offer) -> None:
    assert not Purchase.objects.filter(player=player).exists()
    assert list(LedgerEntry.objects.filter(player=player).values_list("reason", flat=True)) == [
        "test"  # the funding only
    ]
    assert (balance(player, "gold"), balance(player, "gems")) == (500, 0)
    assert not RawEvent.objects.filter(player=player, name="purchase_completed").exists()
    offer.refresh_from_db()
    assert offer.stock in (None, 5)
    assert not OfferPurchaseCount.objects.filter(player=player, count__gt=0).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("offer_fixture", ["gem_pack", "limited_pack"])
def test_a_purchase_checked_before_an_erasure_commits_waits_for_it_and_is_refused(
    request, player, offer_fixture
):
    offer = request.getfixturevalue(offer_fixture)
    fund(player, 500)
    checked = Player.objects.get(pk=player.pk)  # the request's player, token checked

    bought = while_an_erasure_waits_to_commit(player.pk, lambda: buy(checked, offer))

    with pytest.raises(PlayerErased) as refused:
        bought.result(10)
    assert (refused.value.status, refused.value.code) == (410, "player_erased")
    assert Player.objects.get(pk=player.pk).erased_at is not None
    assert_nothing_bought(player, offer)


@pytest.mark.django_db
def test_a_purchase_after_an_erasure_it_did_not_see_is_refused(player, limited_pack):
    fund(player, 500)
    checked = Player.objects.get(pk=player.pk)  # read before the erasure
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)

    with pytest.raises(PlayerErased):
        buy(checked, limited_pack)

    assert_nothing_bought(player, limited_pack)


@pytest.mark.django_db
def test_a_purchase_of_a_player_not_erased_completes(player, limited_pack):
    fund(player, 500)

    result = buy(Player.objects.get(pk=player.pk), limited_pack)

    assert result.status_code == 201
    assert (balance(player, "gold"), balance(player, "gems")) == (400, 10)


@pytest.mark.django_db
def test_the_share_lock_travels_in_the_wallet_lock_and_adds_no_statement(player, gem_pack):
    """A repeat purchase (its wallets exist) sends what it sent before the player's row was
    read with the wallet lock: the offer, the purchase row, the analytics fact with the wallet
    lock (one message on PostgreSQL), the ledger write, and the test's savepoint around them."""
    fund(player, 500)
    checked = Player.objects.get(pk=player.pk)
    buy(checked, gem_pack, key="first")  # makes the gems wallet

    with CaptureQueriesContext(connection) as captured:
        assert buy(checked, gem_pack, key="again").status_code == 201

    sent = [query["sql"] for query in captured.captured_queries]
    assert len(sent) == (6 if connection.vendor == "postgresql" else 8), sent
    [lock] = [sql for sql in sent if wallet_lock_at(sql) >= 0]
    if connection.vendor != "postgresql":  # no row locks: the row is read in the same statement
        assert '"accounts_player"' in lock
        return
    # The statement EXECUTEd, as this session prepared it.
    name = re.search(r"gp_lock_holdings_\w+", lock)
    assert name is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name = %s", [name.group(0)]
        )
        (statement,) = cursor.fetchone()
    assert "FOR SHARE OF p" in statement
