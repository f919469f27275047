"""Segment actions leave erased players out: they are not counted, frozen or granted, and one
erased after the action froze its members is skipped (docs/guide/privacy.md, "After erasure")."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.panel import services
from apps.panel.models import SegmentAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)


@pytest.fixture
def players(game):
    return Player.objects.bulk_create([Player(game=game, display_name=f"s{n}") for n in range(4)])


def test_a_segment_grant_leaves_an_erased_player_out(operator_client, game, players, gold):
    erase_player(player=players[1], actor=None)
    url = f"/panel/games/{game.pk}/segment/"

    assert operator_client.get(url).context["size"] == 3
    form = {
        "kind": "grant",
        "target": "currency:gold",
        "quantity": 100,
        "reason": "Outage",
        "idempotency_key": "form-1",
    }
    assert operator_client.post(url, form).status_code == 302

    action = SegmentAction.objects.get()
    assert (action.status, action.total, action.changed) == ("done", 3, 3)
    assert not Wallet.objects.filter(player=players[1]).exists()
    assert not LedgerEntry.objects.filter(player=players[1]).exists()


def test_a_player_erased_after_the_members_were_frozen_is_skipped(operator, game, players, gold):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    action.refresh_from_db()
    if not action.members_frozen:
        services._freeze_members(action)
    erase_player(player=players[2], actor=None)

    done = services.run_segment_action(action_id=action.pk)

    assert done.status == "done"
    assert (done.changed, done.skipped) == (3, 1)
    assert not Wallet.objects.filter(player=players[2]).exists()
