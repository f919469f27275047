"""Is a session revoked? Asked on every authenticated request, by every web process.

The database is the truth (`AuthSession.revoked_at`). Redis holds a marker per revoked session
for as long as that session's access tokens can live, written right after the revoking
transaction commits, so all processes see a logout, a reuse or a ban within one round trip.
The same write publishes the change to every process's mirror (apps.accounts.mirror), which
answers without a round trip while it provably is current; otherwise the markers are read.

A `ready` key says the markers are complete. Redis restarted empty or flushed: `ready` is gone,
so the request asks the database and the markers are rebuilt from it. Redis down, or not
answering (the hot path's breaker, apps.accounts.hotcache, then skips it for a few seconds):
every request asks the database. In neither case is a token assumed valid without the
database's word. Redis must not evict keys (`maxmemory-policy noeviction`, its default; Celery
needs the same).
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from apps.accounts import hotcache
from apps.accounts.markers import (
    READY_KEY,
    forget_markers,
    marker_key,
    marker_seconds,
    rebuild_markers,
)
from apps.accounts.mirror import MISS, mirror, publish
from apps.accounts.models import AuthSession

logger = logging.getLogger(__name__)

UNKNOWN_SESSION = "unknown_session"


def publish_revocations(reasons: dict[int, str]) -> None:
    """Call after the revoking transaction committed (`transaction.on_commit`)."""
    if not reasons:
        return
    try:
        markers = {marker_key(pk): reason for pk, reason in reasons.items()}
        if (client := hotcache.redis_client()) is None:  # no Redis: no other process either
            cache.set_many(markers, timeout=marker_seconds())
            return
        publish(
            client,
            markers=markers,
            message={"sessions": {str(pk): reason for pk, reason in reasons.items()}},
        )
    except Exception:
        logger.exception("revocation markers not written; forcing a rebuild from the database")
        forget_markers()
        return
    # Published: this process's own next request must not wait for the message to come back.
    # (Not when the publish failed: this mirror's sweep then finds the sessions and writes
    # their markers, which it skips for what its mirror already holds.)
    mirror.note_revoked(sessions=reasons)


def revocation_reason(session_id: int) -> str | None:
    """None while the session may be used; otherwise why not (an AuthSession.RevokeReason)."""
    if (mirrored := mirror.revocation(session_id)) is not MISS:
        return mirrored
    try:
        ready, reason = hotcache.get_many([READY_KEY, marker_key(session_id)])
    except hotcache.RedisSkipped:
        return reason_from_database(session_id)  # the breaker logged when it opened
    except Exception:
        logger.warning("revocation markers unreadable; asking the database", exc_info=True)
        return reason_from_database(session_id)
    if reason is not None:
        return str(reason)
    if ready is not None:
        return None
    rebuild_markers()
    return reason_from_database(session_id)


def reason_from_database(session_id: int) -> str | None:
    """The database's answer; a session it does not know (deleted, made up) is refused."""
    row = AuthSession.objects.filter(pk=session_id).values_list("revoked_at", "revoke_reason")
    if (found := row.first()) is None:
        return UNKNOWN_SESSION
    revoked_at, reason = found
    return (reason or "revoked") if revoked_at else None
