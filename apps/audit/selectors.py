from __future__ import annotations

from django.db.models import Model

from apps.audit.models import AuditLogEntry


def actions_on(*, game_id: int, target: Model, limit: int) -> list[AuditLogEntry]:
    """The audit trail of one row (a player's bans, grants, revocations), newest first."""
    return list(
        AuditLogEntry.objects.filter(
            game_id=game_id, target_type=target._meta.label_lower, target_id=str(target.pk)
        ).order_by("-created_at", "-id")[:limit]
    )
