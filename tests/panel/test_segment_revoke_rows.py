"""A segment revoke takes from the players who hold the currency; it makes no empty wallet for
the ones who never had it (their revoke is refused, and nothing of theirs is written)."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.inventory.models import Currency, Wallet
from apps.inventory.services import change_balance
from apps.panel import services

pytestmark = pytest.mark.django_db


def test_a_revoke_leaves_no_empty_wallet_on_players_who_had_none(operator, game):
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    holder, *others = Player.objects.bulk_create(
        [Player(game=game, display_name=f"p{n}") for n in range(4)]
    )
    change_balance(player=holder, currency="gold", delta=50, reason="seed", idempotency_key="s")
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="revoke", filters={},
        reason="dupe", change=services.Change("currency", "gold", -30),
    )  # fmt: skip

    done = services.run_segment_action(action_id=action.pk)

    assert dict(Wallet.objects.filter(currency=gold).values_list("player_id", "balance")) == {
        holder.pk: 20
    }
    assert (done.changed, done.skipped) == (1, 3)
