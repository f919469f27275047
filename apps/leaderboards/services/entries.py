"""Operators remove (reset) a player's entry: audited, and taken out of the rank index."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record_action
from apps.leaderboards import index
from apps.leaderboards.errors import PeriodClosed
from apps.leaderboards.models import Entry, Period
from apps.leaderboards.services.ranking import removal_for


@transaction.atomic
def remove_entry(
    *, entry: Entry, actor: User | None, reason: str = "", audit_metadata: bool = True
) -> bool:
    """Remove the entry from its open period: the player is no longer ranked there, and their
    next score starts a new entry. A closed period's standings are final (its payouts were
    written from them): PeriodClosed. False, and nothing recorded, when the entry was removed
    meanwhile (the same removal sent twice at once, waiting here for the first). The audit
    entry keeps the removed score and, unless `audit_metadata` is False (a player's erasure:
    the game's free JSON may name them), its metadata."""
    # The period first, as a submission locks it (FOR SHARE) before its entry: a close
    # (FOR UPDATE) then waits for this removal, or came first and is seen here.
    period = Period.objects.select_for_update().get(pk=entry.period_id)
    if period.state != Period.State.OPEN:
        raise PeriodClosed(f"Period {period.number} is closed; its standings are final.")
    locked = (
        Entry.objects.select_for_update(of=("self",))
        .select_related("period__board__game")
        .filter(pk=entry.pk)
        .first()
    )
    if locked is None:
        return False
    board = locked.period.board
    record_action(
        actor=actor,
        game=board.game,
        action="leaderboard.remove_entry",
        target=locked,
        before={
            "board": board.slug,
            "period": locked.period.number,
            "player_id": locked.player_id,
            "score": locked.score,
            **({"metadata": locked.metadata} if audit_metadata else {}),
        },
        after={},
        reason=reason,
    )
    period_id, player_id = locked.period_id, locked.player_id
    # A version no later entry of this player can be below (versions are microsecond times).
    version = max(locked.version + 1, index.version_at(timezone.now()))
    locked.delete()
    change = removal_for(player_id=player_id, version=version)
    transaction.on_commit(lambda: index.apply(period_id, [change]))
    return True
