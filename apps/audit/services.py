from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model

from apps.accounts.models import Game
from apps.audit.models import AuditLogEntry


def record_action(
    *,
    actor: User | None,
    game: Game | None,
    action: str,
    target: Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditLogEntry:
    """Call inside the same transaction as the change it describes."""
    return AuditLogEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        game=game,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        before=before or {},
        after=after or {},
        reason=reason,
    )


def record_announced_action(sender: type[Model], **action: Any) -> AuditLogEntry:
    """The receiver of accounts' `operator_acted`: what accounts announces, recorded here."""
    action.pop("signal", None)
    return record_action(**action)
