"""The Redis markers of revoked sessions (apps.accounts.revocation reads them per request, the
mirror in apps.accounts.mirror writes them on a sweep): their keys, how long they live, the `ready`
stamp that says they are complete, and the rebuild from the database that writes it; and the
cache entries of server keys, which a revocation replaces by a tombstone. Below both modules, so
neither imports the other to reach them."""

from __future__ import annotations

import logging
import secrets
from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.models import AuthSession

logger = logging.getLogger(__name__)

READY_KEY = "auth:revocations:ready"
RELOAD_LOCK_KEY = "auth:revocations:reloading"


def marker_key(session_id: int) -> str:
    return f"auth:revoked:{session_id}"


def marker_seconds() -> int:
    """How long a revocation is remembered: after this no access token of the session is
    unexpired (its lifetime, and a minute's margin for clocks and commits), so the marker can
    go. The one window: the mirror and rebuild_markers() read back revocations this old."""
    return int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60


SERVER_KEY_CACHE_SECONDS = 60
# What a revoked key's cache entry holds (for longer than any fill could live): a reader that
# fetched the key from the database just before its revocation cannot cache it again, because
# entries are only ever added (SET NX), never overwritten.
REVOKED_SERVER_KEY = "revoked"


def server_key_cache_key(key_hash: str) -> str:
    return f"auth:server-key:{key_hash}"


def forget_markers() -> None:
    """Make every process ask the database and rebuild the markers (e.g. after a failed write)."""
    try:
        cache.delete(READY_KEY)
    except Exception:
        logger.exception("could not reset revocation markers either")


def rebuild_markers() -> None:
    """Write a marker for every session revoked within marker_seconds() (the window the mirror
    loads too), then `ready`.

    A revocation committing meanwhile writes its own marker after its commit, so none is lost.
    """
    try:
        if not cache.add(RELOAD_LOCK_KEY, 1, timeout=30):
            return  # another process is at it; until then we ask the database
    except Exception:
        logger.exception("could not rebuild revocation markers")
        return
    try:
        since = timezone.now() - timedelta(seconds=marker_seconds())
        revoked = list(
            AuthSession.objects.filter(revoked_at__gte=since).values_list("pk", "revoke_reason")
        )
        for offset in range(0, len(revoked), 1000):
            chunk = revoked[offset : offset + 1000]
            cache.set_many(
                {marker_key(pk): reason for pk, reason in chunk}, timeout=marker_seconds()
            )
        # A stamp no other rebuild writes: a mirror that saw one rebuild can tell the next,
        # even one in the same second after a failed publish.
        cache.set(READY_KEY, secrets.randbits(62), timeout=None)
    except Exception:
        logger.exception("could not rebuild revocation markers")
    finally:
        with suppress(Exception):
            cache.delete(RELOAD_LOCK_KEY)
