"""An event reward claim that passed its token check before the player's erasure committed
grants nothing under the tombstone: event rewards are refused with player_erased, whoever calls
them (docs/guide/privacy.md), however the two interleave."""

from __future__ import annotations

import threading
from unittest import mock

import pytest

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.services import privacy as erasure
from apps.accounts.services.privacy import erase_player
from apps.analytics.models import RawEvent
from apps.events.models import EventRewardClaim
from apps.events.services import claim_event_reward
from apps.inventory.models import LedgerEntry, Wallet
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

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
            claim = in_thread(
                lambda: claim_event_reward(player=checked, event_id=event.pk, reward_id=reward.pk)
            )
            # The claim's inserts take only KEY SHARE on the player, which the erasure's NO KEY
            # UPDATE does not hold up: the claim must wait for the erasure on its own.
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        finally:
            release.set()
        assert erase.result(10) is True
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
