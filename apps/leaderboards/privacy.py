"""The player's leaderboard entries, payouts and submitted scores: in the data export, and on
erasure the entries of open periods removed through the leaderboards' own service (remove_entry:
the rank index follows, so every other player's rank stays right) (apps.accounts.privacy). A
closed period's standings are final (its payouts were written from them): its entries and the
payouts stay, under the tombstone, which has no name, and without their metadata (the game's
free JSON: a name, a device id). The scores the player's own client submitted go too: their ids
only answer a retry, and the erased player sends none. A game server's submissions stay until
they are pruned (services.retention): a server's retry of one stays a retry, not a new score."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.db.models import Q

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.audit.privacy import targets
from apps.leaderboards.errors import PeriodClosed
from apps.leaderboards.models import Entry, Payout, Period, Submission
from apps.leaderboards.services.entries import remove_entry

ERASED_REASON = "player erased"


def export(player: Player) -> dict[str, Any]:
    entries = Entry.objects.filter(player=player).order_by("period_id")
    payouts = Payout.objects.filter(player=player).order_by("id")
    submissions = Submission.objects.filter(player=player).order_by("id")
    return {
        "entries": rows(
            entries,
            "score",
            "metadata",
            "reached_at",
            board="period__board__slug",
            period="period__number",
        ),
        "payouts": rows(
            payouts,
            "rank",
            "score",
            "contents",
            "paid_at",
            board="period__board__slug",
            period="period__number",
        ),
        "submissions": rows(
            submissions,
            "submission_id",
            "score",
            "from_client",
            "created_at",
            board="board__slug",
            period="period__number",
        ),
    }


def audit_entries(player: Player) -> Q:
    """The audit entries about the player's entries (an operator's removal: the entry is gone,
    the audit entry names its player) and payouts (a retried payment)."""
    removed = Q(target_type=Entry._meta.label_lower, before__player_id=player.pk)
    return removed | targets(Payout, Payout.objects.filter(player=player))


def erase(player: Player) -> None:
    # Period order: two erasures (or an erasure and an operator's removals) lock periods in the
    # same order.
    open_entries = Entry.objects.filter(player=player, period__state=Period.State.OPEN).order_by(
        "period_id"
    )
    for entry in open_entries:
        # Closed since it was read: its standings are final, and stay (without metadata).
        with suppress(PeriodClosed):
            remove_entry(entry=entry, actor=None, reason=ERASED_REASON, audit_metadata=False)
    # Closed periods only: an open one's entry is written under its period's lock, which a
    # submission takes first; a closed period's entries are no longer written.
    Entry.objects.filter(player=player).exclude(period__state=Period.State.OPEN).update(metadata={})
    Submission.objects.filter(player=player, from_client=True).delete()
