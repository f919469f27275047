"""A tier claim that passed its token check before the player's erasure committed grants
nothing under the tombstone: "battle-pass tiers are refused with player_erased, whoever calls
them" (docs/guide/privacy.md), however the two interleave."""

from __future__ import annotations

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.analytics.models import RawEvent
from apps.battlepass.models import TierClaim
from apps.battlepass.services import claim_tier
from apps.inventory.models import LedgerEntry, Wallet
from tests.conftest import while_an_erasure_waits_to_commit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_claim_checked_before_an_erasure_commits_waits_for_it_and_is_refused(player, season):
    # The request's player, loaded (its token checked) before the erasure committed.
    checked = Player.objects.get(pk=player.pk)
    claim = while_an_erasure_waits_to_commit(
        player.pk, lambda: claim_tier(player=checked, level=1, track="free")
    )
    with pytest.raises(PlayerErased):
        claim.result(10)

    assert not TierClaim.objects.filter(player=player).exists()
    assert not LedgerEntry.objects.filter(player=player).exists()
    assert not Wallet.objects.filter(player=player, balance__gt=0).exists()
    assert not RawEvent.objects.filter(player=player, name="battlepass_tier_claimed").exists()
