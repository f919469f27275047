"""A per-process mirror of what every token check asks: which sessions are revoked, and which
server keys are live. Redis pub/sub keeps it current, so the common check costs no round trip.

It is used only while it provably is current (docs/auth.md, "Revocation"):

- Every change (a revoked session, a revoked server key) runs one Lua script after its commit.
  The script writes the Redis markers the per-request path reads, increments a version and
  publishes the change with that version, all at once. So messages arrive in version order.
- The process that made a change also applies it to its own mirror once it is published
  (`note_revoked`): its next request does not wait for the message to come back.
- A process subscribes first, then reads the version and loads the revoked sessions from the
  database (the truth). Changes with a later version arrive through the subscription. A gap in
  the versions means a message was lost, and the mirror reloads.
- Every CHECK_SECONDS the process's thread compares the published version and the `ready`
  stamp of the markers with its own. Only when they agree is the mirror trusted, and only for
  TRUST_SECONDS after that check. A lost message, a dropped connection, Redis restarting empty,
  a failed publish (it deletes `ready`) or a stalled thread therefore stops the mirror from
  being used within TRUST_SECONDS. Requests then ask Redis, and the database, on every request,
  exactly as they do with the mirror off (REVOCATION_MIRROR=0, or no Redis).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Literal, cast
from urllib.parse import parse_qs, urlsplit

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from apps.accounts import hotcache
from apps.accounts.markers import (
    READY_KEY,
    REVOKED_SERVER_KEY,
    SERVER_KEY_CACHE_SECONDS,
    marker_key,
    marker_seconds,
    rebuild_markers,
    server_key_cache_key,
)
from apps.accounts.models import AuthSession, ServerKey
from gamingpanel.followers import Follower
from gamingpanel.metrics import mirror_checked

logger = logging.getLogger(__name__)

CHANNEL = "auth:changes"
VERSION_KEY = "auth:changes:version"
CHECK_SECONDS = 0.2
TRUST_SECONDS = 0.6  # after a check: with CHECK_SECONDS, a change is seen within 0.8 s at worst
SERVER_KEY_SECONDS = 60  # edits to a key's game reach the mirrored copy within this
RETRY_SECONDS = 1.0
SWEEP_SECONDS = 0.5
# How far back a sweep looks: longer than a revoking transaction takes to commit after stamping
# revoked_at, and than the clocks of two web hosts differ.
SWEEP_WINDOW = timedelta(seconds=5)


class Miss(Enum):
    MISS = "miss"


MISS = Miss.MISS  # "the mirror cannot say": ask Redis

# KEYS: version, then the markers to write, then the keys to delete.
# ARGV: channel, marker seconds, message, number of markers, then the marker values.
# The next version and its message, atomically: no two changes share a version, and each
# message leaves in version order.
PUBLISH_SCRIPT = """
local version = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], version .. '|' .. ARGV[2])
return version
"""


class Resync(Exception):
    """The mirror missed something: reload it."""


@dataclass
class MirrorState:
    revoked: dict[int, tuple[str, float]] = field(default_factory=dict)  # id -> reason, until
    server_keys: dict[str, tuple[ServerKey, float]] = field(default_factory=dict)
    revoked_server_keys: set[str] = field(default_factory=set)
    trusted_until: float = 0.0  # time.monotonic()
    generation: int = 0  # moves on every change applied: guards filling in server keys
    version: int = 0
    ready: object = None
    next_prune: float = 0.0


class Mirror(Follower):
    thread_name = "revocation-mirror"

    def __init__(self) -> None:
        self.state = MirrorState()
        super().__init__()

    # --- read on every request ---------------------------------------------------------------

    def revocation(self, session_id: int) -> str | None | Literal[Miss.MISS]:
        """Why the session is revoked, None while it is live, or MISS."""
        if not self._trusted():
            return MISS
        entry = self.state.revoked.get(session_id)
        return None if entry is None else entry[0]

    def server_key(self, key_hash: str) -> ServerKey | None:
        """The live key with this hash, or None when the mirror cannot say (ask Redis)."""
        if not self._trusted():
            return None
        state = self.state
        entry = state.server_keys.get(key_hash)
        if entry is None or entry[1] < time.monotonic() or key_hash in state.revoked_server_keys:
            return None
        return entry[0]

    def generation(self) -> int:
        return self.state.generation

    def remember_server_key(self, key_hash: str, server_key: ServerKey, *, since: int) -> None:
        """Keep a key read from Redis or the database, unless a change was applied since
        `since` (a generation read before that read): it could be what revoked the key."""
        if not settings.REVOCATION_MIRROR:
            return
        with self._changing:
            if self.state.generation == since:
                until = time.monotonic() + SERVER_KEY_SECONDS
                self.state.server_keys[key_hash] = (server_key, until)

    def note_revoked(
        self, *, sessions: dict[int, str] | None = None, server_keys: Iterable[str] = ()
    ) -> None:
        """What this process itself revoked, applied here at once (call after the commit).

        The change's message comes back through Redis to this process's thread like to every
        other, but the mirror stays trusted for up to TRUST_SECONDS without it: the process that
        answered a logout (or an erasure, a revoked key) 204 could take the same token or key
        on its next request. The message, when it arrives, applies the same again, harmlessly
        (as a sweep's does). Nothing is kept while the thread is not running: it loads from the
        database when it starts."""
        if not settings.REVOCATION_MIRROR or self._thread is None:
            return
        until = time.monotonic() + marker_seconds()
        with self._changing:
            state = self.state
            for session_id, reason in (sessions or {}).items():
                state.revoked[session_id] = (str(reason), until)
            for key_hash in server_keys:
                state.revoked_server_keys.add(key_hash)
                state.server_keys.pop(key_hash, None)
            state.generation += 1

    def _trusted(self) -> bool:
        if not settings.REVOCATION_MIRROR:
            return False
        if self._thread is None:
            self.start()
        return time.monotonic() < self.state.trusted_until

    # --- the thread that keeps it current ------------------------------------------------------

    def forget(self) -> None:
        self.state = MirrorState()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception:
                logger.warning(
                    "revocation mirror lost Redis; token checks ask Redis until it is back",
                    exc_info=True,
                )
            finally:
                self.state.trusted_until = 0.0
                connection.close()  # this thread's own, opened only to reload
            self._stop.wait(RETRY_SECONDS)

    def _follow(self) -> None:
        client = redis.Redis.from_url(
            _redis_server(),
            socket_timeout=5,
            socket_connect_timeout=2,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),  # a lost connection ends _follow; _run reconnects
        )
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(channel())
            _await_subscribed(pubsub)
            self._reload(client)
            behind_target: int | None = None
            next_check = next_sweep = 0.0
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=CHECK_SECONDS)
                try:
                    if message is not None and message["type"] == "message":
                        self._apply(message["data"])
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + SWEEP_SECONDS
                        self._sweep(client)
                    if time.monotonic() >= next_check:
                        next_check = time.monotonic() + CHECK_SECONDS
                        behind_target = self._check(client, pubsub, behind_target)
                except Resync:
                    self.state.trusted_until = 0.0
                    self._reload(client)
                    behind_target = None
        finally:
            pubsub.close()
            client.close()

    def _reload(self, client: redis.Redis) -> None:
        """Load the revoked sessions and server keys from the database, as of a version read
        before."""
        version, ready = _version_and_ready(client)
        deadline = time.monotonic() + 30
        while ready is None:  # the per-request path needs the markers too
            rebuild_markers()  # or another process is at it: wait for its `ready`
            version, ready = _version_and_ready(client)
            if ready is None and (time.monotonic() > deadline or self._stop.wait(0.1)):
                raise RuntimeError("revocation markers were not rebuilt; retrying")
        revoked = _revoked_in_database()
        revoked_keys = _revoked_server_keys_in_database()
        connection.close()
        # The per-request path trusts `ready` plus a missing marker as "not revoked". A marker can
        # be lost while `ready` stays (Redis down when a revocation published and when its
        # failure tried to reset `ready`; an append-only file that lost its last second): what
        # the database says is written again, and the sweep, which skips what is loaded here,
        # could not do it. Likewise a server key's cache entry that a revocation could not
        # replace by its tombstone.
        _write_markers(revoked)
        _write_tombstones(revoked_keys)
        with self._changing:
            self.state = MirrorState(
                revoked=revoked,
                revoked_server_keys=revoked_keys,
                generation=self.state.generation + 1,
                version=version,
                ready=ready,
            )

    def _apply(self, data: bytes) -> None:
        raw_version, _, body = data.partition(b"|")
        version = int(raw_version)
        if version <= self.state.version:
            return  # already in what the database said
        if version != self.state.version + 1:
            raise Resync(f"expected change {self.state.version + 1}, got {version}")
        change = json.loads(body)
        until = time.monotonic() + marker_seconds()
        state = self.state
        with self._changing:
            for session_id, reason in change.get("sessions", {}).items():
                state.revoked[int(session_id)] = (reason, until)
            for key_hash in change.get("server_keys", []):
                state.revoked_server_keys.add(key_hash)
                state.server_keys.pop(key_hash, None)
            state.generation += 1
            state.version = version

    def _sweep(self, client: redis.Redis) -> None:
        """The database is the truth: a session or server key it says was revoked in the last
        SWEEP_WINDOW that no message brought (its publish failed, its process died between commit
        and publish, or it was revoked in plain SQL) is applied here, and its marker (a key's
        tombstone) written for the per-request path. A message racing this sweep makes it apply
        one twice, harmlessly.
        """
        since = timezone.now() - SWEEP_WINDOW
        try:
            rows = list(
                AuthSession.objects.filter(revoked_at__gte=since).values_list("pk", "revoke_reason")
            )
            key_hashes = list(
                ServerKey.objects.filter(revoked_at__gte=since).values_list("key_hash", flat=True)
            )
        except Exception:
            logger.warning("revocation sweep could not read the database", exc_info=True)
            connection.close()
            return
        state = self.state
        missing = {pk: reason or "revoked" for pk, reason in rows if pk not in state.revoked}
        missing_keys = set(key_hashes) - state.revoked_server_keys
        if not missing and not missing_keys:
            return
        until = time.monotonic() + marker_seconds()
        with self._changing:
            for pk, reason in missing.items():
                state.revoked[pk] = (reason, until)
            for key_hash in missing_keys:
                state.revoked_server_keys.add(key_hash)
                state.server_keys.pop(key_hash, None)
            state.generation += 1
        if missing:
            cache.set_many(
                {marker_key(pk): reason for pk, reason in missing.items()},
                timeout=marker_seconds(),
            )
        _write_tombstones(missing_keys)

    def _check(
        self, client: redis.Redis, pubsub: redis.client.PubSub, behind_target: int | None
    ) -> int | None:
        """Trust the mirror for TRUST_SECONDS if Redis agrees with it; returns the version it
        is still waiting for, if any. Waiting twice for the same version means it was lost."""
        checked_at = time.monotonic()
        version, ready = _version_and_ready(client)
        if ready != self.state.ready or version < self.state.version:
            raise Resync("Redis restarted, was flushed, or lost the markers")
        while self.state.version < version:  # published before our read: its message is due
            message = pubsub.get_message(timeout=0.05)
            if message is None:
                break
            if message["type"] == "message":
                self._apply(message["data"])
        if self.state.version < version:
            if behind_target is not None and self.state.version < behind_target:
                raise Resync(f"change {behind_target} never arrived")
            return version
        self.state.trusted_until = checked_at + TRUST_SECONDS
        mirror_checked()
        if checked_at >= self.state.next_prune:
            self._prune(checked_at)
        return None

    def _prune(self, now: float) -> None:
        """Forget sessions whose tokens have all expired, and stale server keys."""
        state = self.state
        with self._changing:
            state.revoked = {pk: entry for pk, entry in state.revoked.items() if entry[1] > now}
            state.server_keys = {h: e for h, e in state.server_keys.items() if e[1] > now}
            state.next_prune = now + 60


def _await_subscribed(pubsub: redis.client.PubSub) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1)
        if message is not None and message["type"] == "subscribe":
            return
    raise RuntimeError("Redis did not confirm the subscription")


def _write_markers(revoked: dict[int, tuple[str, float]]) -> None:
    items = [(pk, reason) for pk, (reason, _until) in revoked.items()]
    for offset in range(0, len(items), MARKER_BATCH):
        chunk = items[offset : offset + MARKER_BATCH]
        cache.set_many({marker_key(pk): reason for pk, reason in chunk}, timeout=marker_seconds())


MARKER_BATCH = 1000


def _write_tombstones(key_hashes: set[str]) -> None:
    """Replace the cache entries of revoked server keys (a copy of the key, cached before its
    revocation, would be served for up to SERVER_KEY_CACHE_SECONDS)."""
    if key_hashes:
        cache.set_many(
            {server_key_cache_key(key_hash): REVOKED_SERVER_KEY for key_hash in key_hashes},
            timeout=SERVER_KEY_CACHE_SECONDS,
        )


def _revoked_server_keys_in_database() -> set[str]:
    """Keys revoked recently enough that a copy cached before their revocation may still be in
    the cache (SERVER_KEY_CACHE_SECONDS, and SWEEP_WINDOW for clocks and commits)."""
    since = timezone.now() - timedelta(seconds=SERVER_KEY_CACHE_SECONDS) - SWEEP_WINDOW
    return set(ServerKey.objects.filter(revoked_at__gte=since).values_list("key_hash", flat=True))


def _revoked_in_database() -> dict[int, tuple[str, float]]:
    now = timezone.now()
    lifetime = timedelta(seconds=marker_seconds())
    rows = AuthSession.objects.filter(revoked_at__gte=now - lifetime).values_list(
        "pk", "revoke_reason", "revoked_at"
    )
    monotonic_now = time.monotonic()
    return {
        pk: (reason or "revoked", monotonic_now + (revoked_at + lifetime - now).total_seconds())
        for pk, reason, revoked_at in rows
        if revoked_at is not None  # the filter says so
    }


def channel() -> str:
    """The channel changes are published on. Pub/sub ignores the database number, so it is in
    the name beside the deployment's prefix: two deployments on one Redis server (databases 0
    and 1) never hear each other, even when they share a name (DEPLOYMENT_NAME defaults to the
    database's name)."""
    url = urlsplit(_redis_server())
    db = parse_qs(url.query).get("db", [url.path.strip("/") or "0"])[0]
    return f"{cache.make_key(CHANNEL)}:db{db}"


def _redis_server() -> str:
    server = hotcache.write_server()
    if server is None:
        raise RuntimeError("the revocation mirror needs Redis (REDIS_URL)")
    return server


def _version_and_ready(client: redis.Redis) -> tuple[int, object]:
    """The last published version (a counter only our script writes) and the markers' `ready`
    stamp (written through the cache API, so read through it)."""
    # redis-py types every answer as maybe-awaitable; this client is synchronous.
    version = cast(bytes | None, client.get(cache.make_key(VERSION_KEY)))
    return int(version or 0), cache.get(READY_KEY)


def publish(client: redis.Redis, *, markers: dict[str, str], message: dict[str, object]) -> int:
    """Write the markers (cache keys to values, for marker_seconds()), then publish the change
    under the next version; returns that version. A process that reads a marker before the
    message arrives only learns of the change sooner."""
    cache.set_many(markers, timeout=marker_seconds())
    # INCR answers an integer (redis-py types any script's answer as a maybe-awaitable str).
    return cast(
        int,
        hotcache.run_script(
            client,
            PUBLISH_SCRIPT,
            [cache.make_key(VERSION_KEY)],
            [channel(), json.dumps(message, separators=(",", ":"))],
        ),
    )


mirror = Mirror()
