"""An event reward claim that passed its token check before the player's erasure committed
grants nothing under the tombstone: event rewards are refused with player_erased, whoever calls
them (docs/guide/privacy.md), however the two interleave."""

from __future__ import annotations

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.analytics.models import RawEvent
from apps.events.models import EventRewardClaim
from apps.events.services import claim_event_reward
from apps.inventory.models import LedgerEntry, Wallet
from tests.conftest import while_an_erasure_waits_to_commit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _nothing_granted(player):
    assert not EventRewardClaim.objects.filter(player=player).exists()
    assert not LedgerEntry.objects.filter(player=player).exists()
    assert not Wallet.objects.filter(player=player, balance__gt=0).exists()
    assert not RawEvent.objects.filter(player=player, name="event_reward_claimed").exists()


def test_a_claim_checked_before_an_erasure_commits_waits_for_it_and_is_refused(
    player, event, make_reward
):
    reward = make_reward()
    # The request's player, loaded (its token checked) before the erasure committed.
    checked = Player.objects.get(pk=player.pk)
    claim = while_an_erasure_waits_to_commit(
        player.pk,
        lambda: claim_event_reward(player=checked, event_id=event.pk, reward_id=reward.pk),
    )
    with pytest.raises(PlayerErased):
        claim.result(10)

    _nothing_granted(player)


def test_a_claim_after_an_erasure_its_token_check_did_not_see_is_refused(
    player, event, make_reward
):
    reward = make_reward()
    checked = Player.objects.get(pk=player.pk)  # its token checked before the erasure
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)

    with pytest.raises(PlayerErased):
        claim_event_reward(player=checked, event_id=event.pk, reward_id=reward.pk)

    _nothing_granted(player)
