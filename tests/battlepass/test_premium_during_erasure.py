"""A premium grant whose player was loaded before the player's erasure committed grants nothing
under the tombstone: "a purchase completing after the erasure is flagged" (grant_premium), however
the two interleave."""

from __future__ import annotations

import threading
from unittest import mock

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.services import privacy as erasure
from apps.accounts.services.privacy import erase_player
from apps.battlepass.models import SeasonPass
from apps.battlepass.services import grant_premium
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_premium_grant_racing_an_erasure_waits_for_it_and_is_refused(player, season):
    # The purchase's player, loaded before the erasure committed.
    loaded = Player.objects.get(pk=player.pk)
    erasing, release = threading.Event(), threading.Event()
    announce = erasure.announce_action

    def hold_before_the_commit(**kwargs):
        erasing.set()
        release.wait(10)
        return announce(**kwargs)

    with mock.patch.object(erasure, "announce_action", hold_before_the_commit):
        erase = in_thread(lambda: erase_player(player=Player.objects.get(pk=player.pk), actor=None))
        try:
            assert erasing.wait(10)  # the erasure holds the player's row, not yet committed
            grant = in_thread(
                lambda: grant_premium(player=loaded, season_id=season.pk, idempotency_key="k")
            )
            # The pass's writes take only KEY SHARE on the player, which the erasure's NO KEY
            # UPDATE does not hold up: the grant must wait for the erasure on its own.
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        finally:
            release.set()
        assert erase.result(10) is True
    with pytest.raises(PlayerErased):
        grant.result(10)

    assert not SeasonPass.objects.filter(player=player, premium=True).exists()


def test_a_premium_grant_after_an_erasure_it_did_not_see_is_refused(player, season):
    loaded = Player.objects.get(pk=player.pk)  # loaded before the erasure
    erase_player(player=Player.objects.get(pk=player.pk), actor=None)

    with pytest.raises(PlayerErased):
        grant_premium(player=loaded, season_id=season.pk, idempotency_key="k")

    assert not SeasonPass.objects.filter(player=player).exists()
