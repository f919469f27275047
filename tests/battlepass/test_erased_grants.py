"""Nothing of the battle pass is granted to an erased player: premium (a purchase completing
after the erasure) and tier claims are refused with player_erased (docs/guide/privacy.md)."""

from __future__ import annotations

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.services.privacy import erase_player
from apps.battlepass.models import SeasonPass, TierClaim
from apps.battlepass.services import claim_tier, grant_premium
from apps.inventory.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_premium_is_not_granted_to_an_erased_player(player, season):
    erase_player(player=player, actor=None)

    with pytest.raises(PlayerErased):
        grant_premium(player=player, season_id=season.pk, idempotency_key="late-checkout")

    assert not SeasonPass.objects.filter(player=player).exists()


def test_a_tier_is_not_granted_to_an_erased_player(player, season):
    erase_player(player=player, actor=None)

    with pytest.raises(PlayerErased):
        claim_tier(player=player, level=1, track=TierClaim.Track.FREE)

    assert not TierClaim.objects.filter(player=player).exists()
    assert not LedgerEntry.objects.filter(player=player).exists()
