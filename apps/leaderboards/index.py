"""The rank index: one Redis sorted set per open period, for a player's rank in O(log n).

PostgreSQL is the source of truth; the index is a copy that can be lost at any time. Every
member of a period's set has score 0 and is the fixed-width hex of (rank key, reached_at in
microseconds, player id), so the set's byte order is the board's order, ties included (first to
reach ranks higher, then the lower player id): exact for every BIGINT, which a double score is
not. A hash beside it keeps each player's current member and the entry's version; updates
apply only a newer version, so two writes of one player arriving out of order (after their
commits) leave the newer. A `ready` key says the set holds every entry of the period: without it
(Redis flushed or restarted) a reader counts in PostgreSQL and the set is rebuilt from it.

`ready` holds the run_id of the Redis server that marked it (INFO server), and counts only on
that server: a Redis restarted with its data (AOF written every second) or a replica promoted by
a failover may have lost the last updates while keeping `ready`, so a restarted or other server
rebuilds the index instead of serving it. Readers compare with the run_id each process keeps for
IDENTITY_SECONDS (one round trip per rank read): for that long after a restart a process may
still answer from the old copy, then the next rank read rebuilds it.

Entries of banned players are left out of the set (`apps.leaderboards.receivers` removes and
restores them when an operator bans or unbans; a timed ban's end is noticed within a minute by
`ranking.restore_lapsed_bans`, from beat), as the lists leave them out.

An update that fails after its commit drops the index, so the next rank read rebuilds it; when
the drop fails too (the same Redis fault), the period is recorded in PostgreSQL
(models.RankIndexDrop) and the repair task (`services.index_repair`, every minute from beat)
drops it once Redis answers. The same task checks the member counts of ready indexes against
PostgreSQL, for an update lost with no error to see (the web process died after the commit).

Every key carries the deployment's prefix (settings.CACHE_KEY_PREFIX). Without Redis (the local
default) there is no index and ranks are counted in PostgreSQL.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, transaction
from django.utils import timezone
from redis.typing import EncodableT

from apps.accounts import hotcache
from apps.leaderboards.models import RankIndexDrop

log = logging.getLogger(__name__)

OFFSET = 2**63
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
BUILD_LOCK_SECONDS = 600
# How long a process trusts the run_id it read from Redis (see the module's docstring).
IDENTITY_SECONDS = 1.0


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

    def all(self) -> tuple[str, str, str, str]:
        return (self.members, self.versions, self.ready, self.building)


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
# A ban's or an unban's changes: applied only where the period has an index, ready (on any
# server) or being built (KEYS[3], KEYS[4]). Elsewhere the next build reads PostgreSQL after
# the ban, and writing would leave keys of a period closed meanwhile that nothing deletes.
_FOLLOW = "if redis.call('EXISTS', KEYS[3], KEYS[4]) == 0 then return 0 end\n" + _UPDATE
# An unban's, where the player has no entry: ARGV pairs (player id, version). The removal a ban
# left there (version, no member) goes when older than the version; a member (a first score
# applied since) or a newer removal (a ban since) stays. HDEL makes no key where there is none.
_FORGET_REMOVALS = """
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if current and string.sub(current, -1) == ':'
      and tonumber(string.sub(current, 1, -2)) < tonumber(ARGV[i + 1]) then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return 1
"""
# A rebuild's batch: applied only while KEYS[3] (building) holds the build's token, ARGV[1].
_BUILD_UPDATE = "if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end\n" + _APPLY.replace(
    "FIRST", "2"
)
# The server's identity (INFO server: run_id, new at every start), as `run_id`; "1" from a
# server that does not tell it (every start is then the same server, as before run_ids).
_RUN_ID = "local run_id = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') or '1'\n"
# A build's claim: 0 when KEYS[1] (ready) holds this server's run_id (or another build holds
# KEYS[2], building); else the lock is taken with the token ARGV[1] (for ARGV[2] seconds; ARGV[3]
# "1": taken from any other build). Answers {claimed, run_id}.
_CLAIM = (
    _RUN_ID
    + """
if ARGV[3] ~= '1' then
  if redis.call('GET', KEYS[1]) == run_id then return {0, run_id} end
  if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return {0, run_id} end
else
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
end
return {1, run_id}
"""
)
# The steps of a build that holds KEYS[1] (building) with the token ARGV[1]; 0 once it does not
# (the lock expired, or the index was dropped and another build claimed it). The start answers
# the server's run_id; the finish marks the index ready only on that same server (ARGV[2]): one
# restarted in between may have lost batches already written, and the build lets its lock go.
_START_BUILD = (
    _RUN_ID
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return run_id
"""
)
_FINISH_BUILD = (
    _RUN_ID
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if run_id ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], run_id)
return 1
"""
)
_MARK_READY = _RUN_ID + "redis.call('SET', KEYS[1], run_id)\nreturn 1\n"

# -1: the index is not ready (count in PostgreSQL): no `ready`, or one another server (ARGV[2] is
# this one's run_id, as the process knows it) marked; -2: the member is not in it; else its
# 0-based position.
_RANK = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return -2 end
return rank
"""

NOT_READY = -1
NOT_INDEXED = -2


def _client() -> redis.Redis | None:
    return hotcache.redis_client()


def enabled() -> bool:
    """Whether there is an index at all (Redis configured)."""
    return _client() is not None


# The run_id of each Redis server this process talks to, and when it was read (monotonic).
_identities: dict[str | None, tuple[str, float]] = {}


def _run_id(client: redis.Redis) -> str:
    """The server's run_id as this process knows it: read again after IDENTITY_SECONDS."""
    server = hotcache.write_server()
    known = _identities.get(server)
    now = time.monotonic()
    if known is not None and now - known[1] < IDENTITY_SECONDS:
        return known[0]
    run_id = str(cast(dict[str, object], client.info("server")).get("run_id") or "1")
    _identities[server] = (run_id, now)
    return run_id


def _learned(run_id: object) -> str:
    """A run_id a script just read from the server: this process's from now on."""
    text = run_id.decode() if isinstance(run_id, bytes) else str(run_id)
    _identities[hotcache.write_server()] = (text, time.monotonic())
    return text


@dataclass(frozen=True)
class Change:
    player_id: int
    version: int
    member: str  # "" removes the player's member


def apply(period_id: int, changes: Iterable[Change], *, build: str | None = None) -> bool:
    """Apply entry changes after their commit; a Redis failure is logged, never raised: the
    index is dropped (see `drop`), and PostgreSQL already holds the change. With `build` (a
    rebuild's token), only while that build holds the lock. Whether applied."""
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
        drop([period_id], because="leaderboard index: an update failed")
        return False


def apply_where_indexed(
    changes: dict[int, list[Change]], removals_lifted: dict[int, list[Change]] | None = None
) -> None:
    """A ban's or an unban's changes, by period, in one round trip; only to periods that have
    an index (or a build under way). `removals_lifted`, by period: players unbanned there
    without an entry, whose ban's removal older than the change's version is forgotten. A Redis
    failure is logged and drops those indexes (see `drop`)."""
    client = _client()
    removals_lifted = removals_lifted or {}
    if client is None or not (changes or removals_lifted):
        return
    try:
        pipe = client.pipeline(transaction=False)
        for period_id, its_changes in changes.items():
            keys = Keys.of(period_id)
            args: list[EncodableT] = [
                str(arg)
                for change in its_changes
                for arg in (change.player_id, change.version, change.member)
            ]
            hotcache.run_script(
                pipe, _FOLLOW, [keys.members, keys.versions, keys.ready, keys.building], args
            )
        for period_id, lifted in removals_lifted.items():
            args = [str(arg) for change in lifted for arg in (change.player_id, change.version)]
            hotcache.run_script(pipe, _FORGET_REMOVALS, [Keys.of(period_id).versions], args)
        pipe.execute()
    except redis.RedisError:
        drop(
            changes.keys() | removals_lifted.keys(),
            because="leaderboard index: a ban's or an unban's update failed",
        )


def rank_of(period_id: int, member: str) -> int | None:
    """The member's 0-based position among indexed members, or None when the index cannot say
    (no Redis, not ready, unreachable, or the member missing)."""
    client = _client()
    if client is None:
        return None
    keys = Keys.of(period_id)
    try:
        found = int(
            cast(
                int,
                hotcache.run_script(
                    client, _RANK, [keys.members, keys.ready], [member, _run_id(client)]
                ),
            )
        )
    except redis.RedisError:
        return None
    return found if found >= 0 else None


def left_out(period_id: int, player_ids: list[int]) -> set[int] | None:
    """Of these players, those a ready index holds no member for (removed, or never added); None
    when the index is not ready (a rebuild will read PostgreSQL), unreachable or absent."""
    client = _client()
    if client is None:
        return None
    if not player_ids:
        return set()
    keys = Keys.of(period_id)
    try:
        run_id = _run_id(client)
        pipe = client.pipeline(transaction=False)
        pipe.get(keys.ready)
        pipe.hmget(keys.versions, [str(player_id) for player_id in player_ids])
        ready, stored = pipe.execute()
    except redis.RedisError:
        return None
    if ready is None or ready.decode() != run_id:
        return None
    return {
        player_id
        for player_id, value in zip(player_ids, stored, strict=True)
        if value is None or value.endswith(b":")
    }


def is_ready(period_id: int) -> bool:
    """Whether the period's index is ready on this Redis server (not one restarted since)."""
    client = _client()
    if client is None:
        return False
    try:
        ready = cast(bytes | None, client.get(Keys.of(period_id).ready))
        return ready is not None and ready.decode() == _run_id(client)
    except redis.RedisError:
        return False


def is_building(period_id: int) -> bool:
    """Whether a build holds the period's lock (True when Redis cannot say)."""
    client = _client()
    if client is None:
        return False
    try:
        return bool(client.exists(Keys.of(period_id).building))
    except redis.RedisError:
        return True


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
        claimed, run_id = cast(
            list[object],
            hotcache.run_script(
                client,
                _CLAIM,
                [keys.ready, keys.building],
                [token, BUILD_LOCK_SECONDS, "1" if force else "0"],
            ),
        )
    except redis.RedisError:
        return None
    _learned(run_id)  # a reader whose run_id was older than the server's reads right again
    return token if claimed else None


def start_build(period_id: int, token: str) -> str | None:
    """Empty the period's set before reading PostgreSQL: a write committed after this point is
    either in the snapshot read next or applied after it with a newer version. Answers the
    server's run_id, for finish_build; None when the build no longer holds the lock (or Redis
    failed): it stops."""
    keys = Keys.of(period_id)
    started = _build_step(
        _START_BUILD, [keys.building, keys.members, keys.versions, keys.ready], [token]
    )
    if not started:
        return None
    return started.decode() if isinstance(started, bytes) else str(started)


def finish_build(period_id: int, token: str, run_id: str) -> bool:
    """Mark the index ready, only while the build still holds the lock and on the server it
    started on (`run_id`, from start_build): a build whose lock was lost (a failed update
    dropped the index, or the lock expired) or whose server restarted may have missed
    changes."""
    keys = Keys.of(period_id)
    return bool(_build_step(_FINISH_BUILD, [keys.building, keys.ready], [token, run_id]))


def _build_step(script: str, keys: list[str], args: list[EncodableT]) -> object:
    client = _client()
    if client is None:
        return 0
    try:
        return hotcache.run_script(client, script, keys, args)
    except redis.RedisError:
        log.warning("leaderboard index: a rebuild step failed; the rebuild stops")
        return 0


def mark_empty_ready(period_id: int) -> None:
    """A new period has no entries: its (empty) index is complete from the start."""
    client = _client()
    if client is None:
        return
    try:
        hotcache.run_script(client, _MARK_READY, [Keys.of(period_id).ready], [])
    except redis.RedisError:
        log.warning("leaderboard index: could not mark a new period ready")


# The lapsed bans already followed (ranking.restore_lapsed_bans): the (banned_until, player id)
# of the last one, as fixed-width hex, so that byte order is their order. Only moved forward.
_LAPSED_MARK = """
local current = redis.call('GET', KEYS[1])
if current and current >= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def _lapsed_key() -> str:
    return f"{settings.CACHE_KEY_PREFIX}:lb:lapsed-bans"


def lapsed_mark() -> tuple[datetime, int] | None:
    """The last lapsed ban followed: (banned_until, player id); None when none is kept (or
    Redis cannot say)."""
    client = _client()
    if client is None:
        return None
    try:
        value = cast(bytes | None, client.get(_lapsed_key()))
    except redis.RedisError:
        return None
    if value is None:
        return None
    text = value.decode()
    return EPOCH + int(text[:16], 16) * MICROSECOND, int(text[16:], 16)


def mark_lapsed(banned_until: datetime, player_id: int, *, keep: timedelta) -> None:
    """Every lapsed ban up to (banned_until, player id) is followed; kept for `keep`."""
    client = _client()
    if client is None:
        return
    value = f"{version_at(banned_until):016x}{player_id:016x}"
    try:
        hotcache.run_script(
            client, _LAPSED_MARK, [_lapsed_key()], [value, int(keep.total_seconds())]
        )
    except redis.RedisError:
        log.warning("leaderboard index: could not keep how far lapsed bans were followed")


def forget(*period_ids: int) -> bool:
    """Delete these periods' keys, in one round trip: whether done (or there is no Redis). A
    caller that must not leave the keys behind calls `drop`."""
    client = _client()
    if client is None or not period_ids:
        return True
    try:
        client.delete(*(name for period_id in period_ids for name in Keys.of(period_id).all()))
    except redis.RedisError:
        return False
    return True


def drop(period_ids: Collection[int], *, because: str | None = None) -> None:
    """Drop these periods' indexes: closed, or no longer trusted (`because`: what failed, for
    the log). When Redis fails to, they are recorded in PostgreSQL for the repair task, which
    drops them within a minute of Redis answering again: an index still marked ready would be
    served as it stands until then. Never raises (it runs after commits)."""
    ids = sorted(set(period_ids))
    if not ids:
        return
    if forget(*ids):
        if because:
            log.warning(
                "%s; the index of periods %s is dropped: the next rank read rebuilds it",
                because,
                ids,
            )
        return
    because = because or "leaderboard index: closed periods"
    try:
        now = timezone.now()
        with transaction.atomic():  # a savepoint, should a caller's transaction be open
            RankIndexDrop.objects.bulk_create(
                [
                    RankIndexDrop(period_id=period_id, token=secrets.token_hex(16), recorded_at=now)
                    for period_id in ids
                ],
                update_conflicts=True,
                unique_fields=["period_id"],
                update_fields=["token", "recorded_at"],
            )
    except (DatabaseError, InterfaceError):
        log.exception(
            "%s; dropping the index of periods %s failed, and so did recording that: it may"
            " be served as it stands until the repair task's count check finds it wrong",
            because,
            ids,
        )
        return
    log.warning(
        "%s; dropping the index of periods %s failed: recorded, the repair task drops it"
        " within a minute of Redis answering again",
        because,
        ids,
    )


# -1: not ready on this server (ARGV[1] is its run_id, as the process knows it); else the
# number of members.
_COUNT = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
return redis.call('ZCARD', KEYS[1])
"""


def indexed_count(period_id: int) -> int | None:
    """How many members the period's ready index holds; None when it is not ready (or Redis
    cannot say)."""
    client = _client()
    if client is None:
        return None
    keys = Keys.of(period_id)
    try:
        found = int(
            cast(
                int,
                hotcache.run_script(client, _COUNT, [keys.members, keys.ready], [_run_id(client)]),
            )
        )
    except redis.RedisError:
        return None
    return found if found >= 0 else None


def _check_cursor_key() -> str:
    return f"{settings.CACHE_KEY_PREFIX}:lb:check-cursor"


def check_cursor() -> int:
    """The last period the repair task's count check read (0: start from the first)."""
    client = _client()
    if client is None:
        return 0
    try:
        value = cast(bytes | None, client.get(_check_cursor_key()))
    except redis.RedisError:
        return 0
    return int(value) if value else 0


def set_check_cursor(period_id: int) -> None:
    client = _client()
    if client is None:
        return
    try:
        client.set(_check_cursor_key(), period_id, ex=86400)
    except redis.RedisError:
        log.warning("leaderboard index: could not keep where the count check stopped")


def claim_count_check(period_id: int, *, seconds: int) -> bool:
    """Whether the repair task's count check may count this period now: once per `seconds`
    (the first caller in them claims it). False when Redis cannot say."""
    client = _client()
    if client is None:
        return False
    key = f"{settings.CACHE_KEY_PREFIX}:lb:{period_id}:counted"
    try:
        return bool(client.set(key, 1, nx=True, ex=seconds))
    except redis.RedisError:
        return False
