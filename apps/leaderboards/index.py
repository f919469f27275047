"""The rank index: one Redis sorted set per open period, for a player's rank in O(log n).

PostgreSQL is the source of truth; the index is a copy that can be lost at any time. Every
member of a period's set has score 0 and is the fixed-width hex of (rank key, reached_at in
microseconds, player id), so the set's byte order is the board's order, ties included (first to
reach ranks higher, then the lower player id): exact for every BIGINT, which a double score is
not. A hash beside it keeps each player's current member and the entry's version; updates
apply only a newer version, so two writes of one player arriving out of order (after their
commits) leave the newer. A `ready` key says the set holds every entry of the period: without it
(Redis flushed or restarted) a reader counts in PostgreSQL and the set is rebuilt from it.

Entries of banned players are left out of the set (`apps.leaderboards.receivers` removes and
restores them when an operator bans or unbans; a timed ban's end is noticed within a minute by
`ranking.restore_lapsed_bans`, from beat), as the lists leave them out.

Every key carries the deployment's prefix (settings.CACHE_KEY_PREFIX). Without Redis (the local
default) there is no index and ranks are counted in PostgreSQL.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import redis
from django.conf import settings
from redis.typing import EncodableT

from apps.accounts import hotcache

log = logging.getLogger(__name__)

OFFSET = 2**63
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
BUILD_LOCK_SECONDS = 600


def member_of(*, rank_key: int, reached_at: datetime, player_id: int) -> str:
    micros = (reached_at - EPOCH) // MICROSECOND  # exact, unlike timestamp()
    return f"{rank_key + OFFSET:016x}{micros:016x}{player_id:016x}"


def version_at(moment: datetime) -> int:
    """An entry's version: the change's time in microseconds (or one more than the last)."""
    return (moment - EPOCH) // MICROSECOND


def player_of(member: str) -> int:
    return int(member[32:], 16)


@dataclass(frozen=True)
class Keys:
    members: str
    versions: str
    ready: str
    building: str

    @classmethod
    def of(cls, period_id: int) -> Keys:
        base = f"{settings.CACHE_KEY_PREFIX}:lb:{period_id}"
        return cls(f"{base}:z", f"{base}:v", f"{base}:ready", f"{base}:building")


# ARGV: triples (player id, version, member or "" to remove), from ARGV[FIRST]. A lower or equal
# version than the one stored changes nothing. The version is stored as sent: Lua writes a number
# with 14 significant digits, and a version (microseconds) has 16; compared as numbers, it is
# exact.
_APPLY = """
for i = FIRST, #ARGV, 3 do
  local pid, sent, member = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local version = tonumber(sent)
  local current = redis.call('HGET', KEYS[2], pid)
  local apply = true
  if current then
    local cut = string.find(current, ':', 1, true)
    if tonumber(string.sub(current, 1, cut - 1)) >= version then
      apply = false
    else
      local old = string.sub(current, cut + 1)
      if old ~= '' then redis.call('ZREM', KEYS[1], old) end
    end
  end
  if apply then
    if member ~= '' then redis.call('ZADD', KEYS[1], 0, member) end
    redis.call('HSET', KEYS[2], pid, sent .. ':' .. member)
  end
end
return 1
"""
_UPDATE = _APPLY.replace("FIRST", "1")
# A rebuild's batch: applied only while KEYS[3] (building) holds the build's token, ARGV[1].
_BUILD_UPDATE = "if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end\n" + _APPLY.replace(
    "FIRST", "2"
)
# The steps of a build that holds KEYS[1] (building) with the token ARGV[1]; 0 once it does not
# (the lock expired, or the index was dropped and another build claimed it).
_START_BUILD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return 1
"""
_FINISH_BUILD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], '1')
redis.call('DEL', KEYS[1])
return 1
"""

# -1: the index is not ready (count in PostgreSQL); -2: the member is not in it; else its
# 0-based position.
_RANK = """
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return -2 end
return rank
"""

NOT_READY = -1
NOT_INDEXED = -2


def _client() -> redis.Redis | None:
    return hotcache.redis_client()


@dataclass(frozen=True)
class Change:
    player_id: int
    version: int
    member: str  # "" removes the player's member


def apply(period_id: int, changes: Iterable[Change], *, build: str | None = None) -> bool:
    """Apply entry changes after their commit; a Redis failure is logged, never raised: the
    index is dropped (the next rank read rebuilds it), and PostgreSQL already holds the change.
    With `build` (a rebuild's token), only while that build holds the lock. Whether applied."""
    client = _client()
    args: list[EncodableT] = [
        str(arg) for change in changes for arg in (change.player_id, change.version, change.member)
    ]
    if client is None or not args:
        return True
    keys = Keys.of(period_id)
    try:
        if build is None:
            hotcache.run_script(client, _UPDATE, [keys.members, keys.versions], args)
            return True
        held = hotcache.run_script(
            client, _BUILD_UPDATE, [keys.members, keys.versions, keys.building], [build, *args]
        )
        return bool(held)
    except redis.RedisError:
        log.warning("leaderboard index update failed; it is rebuilt on the next rank read")
        forget(period_id)
        return False


def rank_of(period_id: int, member: str) -> int | None:
    """The member's 0-based position among indexed members, or None when the index cannot say
    (no Redis, not ready, unreachable, or the member missing)."""
    client = _client()
    if client is None:
        return None
    keys = Keys.of(period_id)
    try:
        found = int(
            cast(int, hotcache.run_script(client, _RANK, [keys.members, keys.ready], [member]))
        )
    except redis.RedisError:
        return None
    return found if found >= 0 else None


def left_out(period_id: int, player_ids: list[int]) -> set[int]:
    """Of these players, those a ready index holds no member for (removed, or never added); an
    empty set when the index is not ready or unreachable (a rebuild will read PostgreSQL)."""
    client = _client()
    if client is None or not player_ids:
        return set()
    keys = Keys.of(period_id)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.exists(keys.ready)
        pipe.hmget(keys.versions, [str(player_id) for player_id in player_ids])
        ready, stored = pipe.execute()
    except redis.RedisError:
        return set()
    if not ready:
        return set()
    return {
        player_id
        for player_id, value in zip(player_ids, stored, strict=True)
        if value is None or value.endswith(b":")
    }


def is_ready(period_id: int) -> bool:
    client = _client()
    if client is None:
        return False
    try:
        return bool(client.exists(Keys.of(period_id).ready))
    except redis.RedisError:
        return False


def claim_build(period_id: int, *, force: bool = False) -> str | None:
    """The token of the one caller that should rebuild now (others get None and keep counting
    in PostgreSQL). `force`: rebuild even a ready index, taking the lock from any other build
    (whose later steps then change nothing)."""
    client = _client()
    if client is None:
        return None
    keys = Keys.of(period_id)
    token = secrets.token_hex(16)
    try:
        if force:
            client.set(keys.building, token, ex=BUILD_LOCK_SECONDS)
            return token
        if client.exists(keys.ready):
            return None
        claimed = client.set(keys.building, token, nx=True, ex=BUILD_LOCK_SECONDS)
    except redis.RedisError:
        return None
    return token if claimed else None


def start_build(period_id: int, token: str) -> bool:
    """Empty the period's set before reading PostgreSQL: a write committed after this point is
    either in the snapshot read next or applied after it with a newer version. False when the
    build no longer holds the lock (or Redis failed): it stops."""
    keys = Keys.of(period_id)
    return _build_step(
        _START_BUILD, [keys.building, keys.members, keys.versions, keys.ready], token
    )


def finish_build(period_id: int, token: str) -> bool:
    """Mark the index ready, only while the build still holds the lock: a build whose lock was
    lost (a failed update dropped the index, or the lock expired) may have missed changes."""
    keys = Keys.of(period_id)
    return _build_step(_FINISH_BUILD, [keys.building, keys.ready], token)


def _build_step(script: str, keys: list[str], token: str) -> bool:
    client = _client()
    if client is None:
        return False
    try:
        return bool(hotcache.run_script(client, script, keys, [token]))
    except redis.RedisError:
        log.warning("leaderboard index: a rebuild step failed; the rebuild stops")
        return False


def mark_empty_ready(period_id: int) -> None:
    """A new period has no entries: its (empty) index is complete from the start."""
    client = _client()
    if client is None:
        return
    try:
        client.set(Keys.of(period_id).ready, "1")
    except redis.RedisError:
        log.warning("leaderboard index: could not mark a new period ready")


def forget(period_id: int) -> None:
    """Drop a period's index (closed, or no longer trusted); best effort."""
    client = _client()
    if client is None:
        return
    keys = Keys.of(period_id)
    try:
        client.delete(keys.members, keys.versions, keys.ready, keys.building)
    except redis.RedisError:
        log.warning("leaderboard index: could not drop a period's keys")
