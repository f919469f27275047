"""An erasure clears the erased player's ban from every segment action that picked them (its
reason is an operator's free text about the player, copied there when the action was
submitted), and a pending unban then leaves the tombstone alone while it lifts the other
members' bans as it would have (apps/panel/privacy.py, docs/guide/privacy.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.privacy import export_player_data
from apps.accounts.services.bans import ban_player
from apps.accounts.services.privacy import erase_player
from apps.panel import services
from apps.panel.models import SegmentMember

pytestmark = pytest.mark.django_db


def banned(game, operator, *reasons: str) -> list[Player]:
    players = Player.objects.bulk_create(
        [Player(game=game, display_name=f"p{n}") for n in range(len(reasons))]
    )
    until = timezone.now() + timedelta(days=7)
    for player, reason in zip(players, reasons, strict=True):
        ban_player(player=player, reason=reason, until=until, actor=operator)
    return players


def submit(game, operator, kind: str, key: str, **given: Any):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key=key, kind=kind, filters={},
        reason="review", **given,
    )  # fmt: skip
    return action


def frozen(action) -> dict[int, tuple[Any, Any]]:
    return {
        player_id: (until, reason)
        for player_id, until, reason in SegmentMember.objects.filter(action=action).values_list(
            "player_id", "banned_until", "ban_reason"
        )
    }


def test_the_erasure_clears_the_players_ban_from_every_segment_member(operator, game):
    alice, bob = banned(game, operator, "alice cheated in the ranked cup", "bot")
    unban = submit(game, operator, "unban", "u")
    ban = submit(game, operator, "ban", "b", ban_until=timezone.now() + timedelta(days=30))

    assert erase_player(player=alice, actor=None) is True

    for action in (unban, ban):
        members = frozen(action)
        assert members[alice.pk] == (None, None)
        assert members[bob.pk][1] == "bot"  # the others' as they were
    dump = str(list(SegmentMember.objects.values_list("banned_until", "ban_reason")))
    assert "alice cheated" not in dump


def test_a_pending_unban_leaves_the_erased_player_alone_and_lifts_the_others(operator, game):
    alice, bob, carol = banned(game, operator, "alice cheated", "bot", "bot")
    action = submit(game, operator, "unban", "u")
    erase_player(player=alice, actor=None)
    tombstone_ban = Player.objects.get(pk=alice.pk).banned_until

    done = services.run_segment_action(action_id=action.pk)

    assert (done.status, done.total, done.changed, done.skipped) == ("done", 3, 2, 1)
    assert Player.objects.get(pk=alice.pk).banned_until == tombstone_ban
    assert not Player.objects.get(pk=bob.pk).is_banned
    assert not Player.objects.get(pk=carol.pk).is_banned


def test_an_erased_member_reached_by_an_unban_is_left_alone(operator, game):
    """Even a run that did not leave the tombstone out (its chunk read before the erasure
    committed) finds no ban of the member's to lift: the member's end is none now."""
    alice, _bob = banned(game, operator, "alice cheated", "bot")
    action = submit(game, operator, "unban", "u")
    erase_player(player=alice, actor=None)
    tombstone = Player.objects.get(pk=alice.pk)
    until, reason = frozen(action)[alice.pk]

    lifted = services._apply_to(action, tombstone, None, services.FrozenBan(until, reason))

    assert lifted is False
    assert Player.objects.get(pk=alice.pk).banned_until == tombstone.banned_until


def test_the_export_lists_the_segment_actions_that_picked_the_player(operator, game):
    (alice,) = banned(game, operator, "alice cheated")
    action = submit(game, operator, "unban", "u")

    rows = export_player_data(alice)["segment_actions"]

    assert rows == [
        {
            "segment_action": action.pk,
            "kind": "unban",
            "submitted_at": action.created_at,
            "banned_until": Player.objects.get(pk=alice.pk).banned_until,
            "ban_reason": "alice cheated",
        }
    ]
    erase_player(player=alice, actor=None)
    assert export_player_data(alice)["segment_actions"][0]["ban_reason"] is None


def test_the_members_are_found_through_their_key_not_by_reading_every_member(operator, game):
    (alice,) = banned(game, operator, "alice cheated")
    submit(game, operator, "unban", "u")

    with CaptureQueriesContext(connection) as queries:
        erase_player(player=alice, actor=None)

    members = [q["sql"] for q in queries if SegmentMember._meta.db_table in q["sql"]]
    assert members and all('"action_id" IN' in sql for sql in members), members
