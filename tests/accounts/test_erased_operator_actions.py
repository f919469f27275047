"""Nothing is granted to or done to an erased player's tombstone by the paths no player token
guards: an operator's ban or grant (the player page), and a payment reported after the
erasure (the purchase is flagged for an operator, as any paid purchase that cannot be granted)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.errors import PlayerErased
from apps.accounts.models import GameAccess, Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.privacy import erase_player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import LedgerEntry
from apps.inventory.services import Change, operator_adjust
from apps.shop.models import Purchase
from apps.shop.services.fulfilment import fulfil_purchase
from tests.panel.conftest import client_for, make_user
from tests.shop.helpers import make_economy, make_offer
from tests.shop.test_paid_later import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(game):
    return make_user("oscar", game, GameAccess.Role.OPERATOR)


def erased(player: Player) -> Player:
    assert erase_player(player=player, actor=None) is True
    return Player.objects.get(pk=player.pk)


def test_a_ban_of_an_erased_player_is_refused(player, operator):
    tombstone = erased(player)

    with pytest.raises(PlayerErased):
        ban_player(player=tombstone, reason="Cheating", until=None, actor=operator)

    assert Player.objects.get(pk=player.pk).banned_until is None
    assert not AuditLogEntry.objects.filter(action="player.ban").exists()


def test_an_operators_grant_to_an_erased_player_is_refused(player, operator, game):
    make_economy(game)
    tombstone = erased(player)

    with pytest.raises(PlayerErased):
        operator_adjust(
            actor=operator,
            player=tombstone,
            change=Change("currency", "gems", 50),
            note="gift",
            idempotency_key="g1",
        )

    assert not LedgerEntry.objects.filter(player=player).exists()


def test_the_player_page_says_nothing_changed(player, operator, game):
    tombstone = erased(player)
    url = reverse("panel:player-action", args=[game.pk, tombstone.pk, "ban"])

    response = client_for(operator).post(
        url, {"reason": "Cheating", "until": "2099-06-10T18:30", "confirm": "yes"}, follow=True
    )

    assert "Nothing changed" in response.content.decode()
    assert Player.objects.get(pk=player.pk).banned_until is None


def test_a_payment_reported_after_the_erasure_grants_nothing_and_is_flagged(player, game):
    make_economy(game)
    offer = make_offer(
        game,
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
    )
    purchase = start(player, offer, "k")
    erased(player)

    paid, balances = fulfil_purchase(purchase_id=purchase.pk)

    assert balances == {}
    assert paid.status == Purchase.Status.PENDING and paid.needs_attention
    assert "erased" in paid.note
    assert not LedgerEntry.objects.filter(player=player, delta__gt=0).exists()
