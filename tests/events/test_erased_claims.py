"""No event reward is granted to an erased player, whoever calls the claim: player_erased
(docs/guide/privacy.md, "After erasure")."""

from __future__ import annotations

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.services.privacy import erase_player
from apps.events.models import EventRewardClaim
from apps.events.services import claim_event_reward
from apps.inventory.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_an_event_reward_is_not_granted_to_an_erased_player(player, event, make_reward):
    reward = make_reward()
    erase_player(player=player, actor=None)

    with pytest.raises(PlayerErased):
        claim_event_reward(player=player, event_id=event.pk, reward_id=reward.pk)

    assert not EventRewardClaim.objects.filter(player=player).exists()
    assert not LedgerEntry.objects.filter(player=player).exists()
