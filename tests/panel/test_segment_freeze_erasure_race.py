"""A segment action copies each member's ban (an operator's text about the player) when it is
submitted; the player's erasure clears those copies (apps/panel/privacy.py). The copy was read
unlocked, so an erasure committing while the action was submitted cleared the actions it saw,
not this one (not committed yet), and the erased player's ban stayed in the new member row.
Now the freeze reads its banned players' erasure again under the game's members lock (held
shared by every erasure): an erasure under way is waited for and its player's copy dropped; one
starting meanwhile waits for the submit's commit and then clears the copy itself."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.privacy import erase_player
from apps.panel import services
from apps.panel.models import SegmentMember
from tests.conftest import (
    in_thread,
    wait_until_a_statement_waits_for_a_lock,
    while_an_erasure_waits_to_commit,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def banned_pair(game, operator):
    alice, bob = Player.objects.bulk_create(
        [Player(game=game, display_name="alice"), Player(game=game, display_name="bob")]
    )
    until = timezone.now() + timedelta(days=7)
    ban_player(player=alice, reason="alice cheated in the ranked cup", until=until, actor=operator)
    ban_player(player=bob, reason="bot", until=until, actor=operator)
    return alice, bob


def submit(game, operator):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="u", kind="unban", filters={},
        reason="amnesty",
    )  # fmt: skip
    return action


def frozen(action) -> dict[int, tuple[object, object]]:
    rows = SegmentMember.objects.filter(action=action).values_list(
        "player_id", "banned_until", "ban_reason"
    )
    return {player_id: (until, reason) for player_id, until, reason in rows}


def test_a_submit_waits_for_an_erasure_under_way_and_drops_its_ban(operator, game, banned_pair):
    alice, bob = banned_pair
    submitted = while_an_erasure_waits_to_commit(alice.pk, lambda: submit(game, operator))
    action = submitted.result(10)

    members = frozen(action)
    assert members[alice.pk] == (None, None)
    assert members[bob.pk][1] == "bot"
    assert action.total == 2


def test_an_erasure_started_during_a_submit_waits_and_clears_its_copy(operator, game, banned_pair):
    alice, bob = banned_pair
    frozen_done, release = threading.Event(), threading.Event()
    record_action = services.record_action

    def hold_before_the_commit(**kwargs):
        frozen_done.set()
        release.wait(10)
        return record_action(**kwargs)

    with mock.patch.object(services, "record_action", hold_before_the_commit):
        submitted = in_thread(lambda: submit(game, operator))
        assert frozen_done.wait(10)  # members written, not committed
        erasure = in_thread(
            lambda: erase_player(player=Player.objects.get(pk=alice.pk), actor=None)
        )
        try:
            # Before the fix the erasure did not wait: it committed first, and missed the copy.
            with contextlib.suppress(AssertionError):
                wait_until_a_statement_waits_for_a_lock(timeout=3)
        finally:
            release.set()
        action = submitted.result(10)
    assert erasure.result(10) is True

    members = frozen(action)
    assert members[alice.pk] == (None, None)
    assert members[bob.pk][1] == "bot"
    dump = str(list(SegmentMember.objects.values_list("ban_reason", flat=True)))
    assert "alice cheated" not in dump


def test_an_erasure_between_the_read_and_the_lock_drops_the_copy(operator, game, banned_pair):
    """The erasure commits after the freeze read its players, before the ban copies are read
    again: that read finds the player erased. (No lock for an action that copied no ban.)"""
    alice, bob = banned_pair
    drop = services._drop_erased_bans

    def erase_first(action, with_a_ban):
        in_thread(lambda: erase_player(player=Player.objects.get(pk=alice.pk), actor=None)).result(
            10
        )
        return drop(action, with_a_ban)

    with mock.patch.object(services, "_drop_erased_bans", erase_first):
        action = submit(game, operator)

    members = frozen(action)
    assert members[alice.pk] == (None, None)
    assert members[bob.pk][1] == "bot"


def test_a_freeze_that_copied_no_ban_does_not_hold_erasures(operator, game):
    """Only an action that copied a ban takes the game's members lock."""
    Player.objects.bulk_create([Player(game=game, display_name=f"p{n}") for n in range(3)])
    with mock.patch.object(services, "hold_against_erasures") as hold:
        action, _ = services.submit_segment_action(
            game=game, actor=operator, idempotency_key="g", kind="ban", filters={},
            reason="raid",
        )  # fmt: skip
    assert action.total == 3
    hold.assert_not_called()
