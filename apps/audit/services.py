from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import Model
from redis.exceptions import RedisError

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
    actor_name: str = "",
) -> AuditLogEntry:
    """Call inside the same transaction as the change it describes. `actor` is the operator;
    without one the entry's actor reads `actor_name` (who else asked: a player's own request),
    else "system"."""
    return AuditLogEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else (actor_name or "system")[:150],
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


# While a name or an address is locked out, each of its attempts is refused without a password
# check, and a script can send them as fast as the page answers, with a new name each time: one
# entry per address this often, counting the attempts in between, keeps the log readable and its
# table bounded by the addresses trying, not by their requests.
LOCKED_OUT_ENTRY_SECONDS = 60
_clock = time.time  # which minute it is (tests move it)


def record_login_failure(
    *, username: str, address: str | None, locked_out: bool
) -> AuditLogEntry | None:
    """A failed operator login (admin or panel), or the failure that locked the username or the
    address out. The actor is unknown: whoever typed `username`; the target is that account if
    it exists. Never the password, nor a name no account has (people type their password into
    the name field): that is kept as a short fingerprint, enough to tell repeated tries apart.
    Attempts during a lock-out are recorded once per LOCKED_OUT_ENTRY_SECONDS for each address
    (None for the others), the entry's `repeats` counting those left out before it."""
    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        shown = username[:200]
    else:
        # Keyed: an unkeyed hash of a password typed as a name could be checked against
        # guesses by anyone who reads the audit log.
        keyed = hmac.new(settings.SECRET_KEY.encode(), username.encode(), hashlib.sha256)
        shown = "unknown name " + keyed.hexdigest()[:8]
    after: dict[str, Any] = {"address": address or "", "known_user": user is not None}
    if locked_out:
        repeats = _left_out_attempts(address or f"name {shown}")
        if repeats is None:
            return None
        after["repeats"] = repeats
    return AuditLogEntry.objects.create(
        actor=None,
        actor_name="anonymous",
        game=None,
        action=LOGIN_LOCKED_OUT if locked_out else LOGIN_FAILED,
        target_type=User._meta.label_lower,
        target_id=str(user.pk) if user else "",
        target_repr=shown,
        after=after,
    )


def _left_out_attempts(source: str) -> int | None:
    """None when a lock-out entry for this source (its address) was written in this period of
    LOCKED_OUT_ENTRY_SECONDS: the attempt is counted instead. Otherwise how many were counted
    since the previous entry. With Redis down, every attempt is written."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:32]
    period = int(_clock() // LOCKED_OUT_ENTRY_SECONDS)
    window = f"audit:locked-out:{digest}:{period}"
    counted = f"audit:locked-out-count:{digest}"
    # The count outlives a lock-out's windows, so a long one's attempts are all counted.
    count_seconds = int(settings.AXES_COOLOFF_TIME.total_seconds()) + LOCKED_OUT_ENTRY_SECONDS
    try:
        if not cache.add(window, 1, LOCKED_OUT_ENTRY_SECONDS):
            cache.add(counted, 0, count_seconds)
            cache.incr(counted)
            return None
        repeats = cache.get(counted, 0)
        if repeats:
            cache.decr(counted, repeats)  # not delete: an attempt counted meanwhile stays
        return int(repeats)
    except (RedisError, ValueError):  # ValueError: the count expired between add and incr
        return 0
