"""What operators do (admin adds, changes and deletes, bans, ended sessions) is announced here;
the audit log records it (apps.audit connects its recorder when the app is ready). accounts sits
below audit, so it names no recorder. Receivers run synchronously in the caller's transaction:
the record lands with the change or not at all, and a failing recorder undoes the change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model
from django.dispatch import Signal

from apps.accounts.models import Game

# sender: the target's model; arguments: those of `announce_action`
operator_acted = Signal()


def announce_action(
    *,
    actor: User | None,
    game: Game | None,
    action: str,
    target: Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor_name: str = "",
) -> None:
    """Call inside the same transaction as the change it describes. Without an operator
    (`actor` None) the record names `actor_name` (a player's own request), else "system"."""
    operator_acted.send(
        sender=type(target),
        actor=actor,
        actor_name=actor_name,
        game=game,
        action=action,
        target=target,
        before=before,
        after=after,
        reason=reason,
    )
