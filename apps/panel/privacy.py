"""The panel's part of a player's data (apps.accounts.privacy): the segment actions that picked
the player, each with the ban the player had when it was submitted (SegmentMember), in the data
export; on erasure that ban goes from them.

A member's `ban_reason` is an operator's free text about the player, copied from the player's
row when the action was submitted; the erasure clears the row's (apps.accounts.services.privacy)
and, here, every copy: the reason and the ban's end (NULL, "not written down"). The member row
itself stays, so the action's counts still add up (the run counts the erased player as skipped).
Nothing of a run depends on what is cleared: a run leaves erased players out (services.
_chunk_players); should one reach an erased player anyway, an unban compares the player's ban
with the member's end, which is now none, and leaves the tombstone alone (_is_the_frozen_ban)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.panel.models import SegmentAction, SegmentMember

# A game's segment freezes against its erasures (pg_advisory_xact_lock, to the commit): a
# freeze copies members' bans from an unlocked read, then reads again, under this lock held
# exclusively, which of them were erased since (services._drop_erased_bans); every erasure holds
# it shared from before it locks the player (`lock`), so erasures never wait for each other.
MEMBERS_LOCK = "SELECT pg_advisory_xact_lock{}(hashtextextended(%s, 0))"


def _members_lock_key(game_id: int) -> str:
    return f"segment-members:{game_id}"


def hold_against_erasures(game_id: int) -> None:
    """A segment freeze, to its commit: an erasure of the game's players under way is waited
    for, one that starts later waits for the commit (and then sees the action's members)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(MEMBERS_LOCK.format(""), [_members_lock_key(game_id)])


def lock(player: Player) -> None:
    """The erasure, before the player's row: a segment freeze committing meanwhile is waited
    for (its members then cleared by `erase`), or waits for this erasure's commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(MEMBERS_LOCK.format("_shared"), [_members_lock_key(player.game_id)])


def _memberships(player: Player) -> QuerySet[SegmentMember]:
    """Through the member's unique key (action, player): the game's actions first, so that the
    lookup never reads the members of every action (millions of rows for a big segment)."""
    actions = list(
        SegmentAction.objects.filter(game_id=player.game_id).values_list("pk", flat=True)
    )
    return SegmentMember.objects.filter(action_id__in=actions, player_id=player.pk)


def export(player: Player) -> list[dict[str, Any]]:
    return rows(
        _memberships(player).order_by("action_id"),
        "banned_until",
        "ban_reason",
        segment_action="action_id",
        kind="action__kind",
        submitted_at="action__created_at",
    )


def erase(player: Player) -> None:
    _memberships(player).filter(Q(banned_until__isnull=False) | Q(ban_reason__isnull=False)).update(
        banned_until=None, ban_reason=None
    )
