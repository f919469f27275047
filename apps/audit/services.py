from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
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


LOGIN_FAILED = "login_failed"
LOGIN_LOCKED_OUT = "login_locked_out"


def record_login_failure(*, username: str, address: str | None, locked_out: bool) -> AuditLogEntry:
    """A failed operator login (admin or panel), or the failure that locked the username or the
    address out. The actor is unknown: whoever typed `username`; the target is that account if
    it exists. Never the password, nor a name no account has (people type their password into
    the name field): that is kept as a short fingerprint, enough to tell repeated tries apart."""
    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        shown = username[:200]
    else:
        # Keyed: an unkeyed hash of a password typed as a name could be checked against
        # guesses by anyone who reads the audit log.
        keyed = hmac.new(settings.SECRET_KEY.encode(), username.encode(), hashlib.sha256)
        shown = "unknown name " + keyed.hexdigest()[:8]
    return AuditLogEntry.objects.create(
        actor=None,
        actor_name="anonymous",
        game=None,
        action=LOGIN_LOCKED_OUT if locked_out else LOGIN_FAILED,
        target_type=User._meta.label_lower,
        target_id=str(user.pk) if user else "",
        target_repr=shown,
        after={"address": address or "", "known_user": user is not None},
    )
