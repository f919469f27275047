"""A premium grant whose player was loaded before the player's erasure committed grants nothing
under the tombstone: "a purchase completing after the erasure is flagged" (grant_premium), however
the two interleave."""

from __future__ import annotations

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.battlepass.models import SeasonPass
from apps.battlepass.services import grant_premium
from tests.conftest import while_an_erasure_waits_to_commit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_premium_grant_racing_an_erasure_waits_for_it_and_is_refused(player, season):
    # The purchase's player, loaded before the erasure committed.
    loaded = Player.objects.get(pk=player.pk)
    grant = while_an_erasure_waits_to_commit(
        player.pk, lambda: grant_premium(player=loaded, season_id=season.pk, idempotency_key="k")
    )
    with pytest.raises(PlayerErased):
        grant.result(10)

    assert not SeasonPass.objects.filter(player=player, premium=True).exists()


def test_a_premium_grant_after_an_erasure_it_did_not_see_is_refused(player, season):
    loaded = Player.objects.get(pk=player.pk)  # loaded before the erasure
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)

    with pytest.raises(PlayerErased):
        grant_premium(player=loaded, season_id=season.pk, idempotency_key="k")

    assert not SeasonPass.objects.filter(player=player).exists()
