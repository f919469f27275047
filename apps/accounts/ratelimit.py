"""Request budgets: fixed windows counted in the shared cache (Redis: one atomic script, one round
trip), so every web process spends from the same count.

- Player endpoints: RATE_LIMIT_PER_HOUR per login session (every access token its refreshes mint
  spends from the same count), or the game's own `rate_limit_per_hour`.
  Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).
- Login and refresh: AUTH_RATE_LIMIT_PER_MINUTE per client address and
  AUTH_GAME_RATE_LIMIT_PER_MINUTE per game, against credential stuffing.

Over a budget: `429 rate_limited` with `Retry-After`. Cache down: requests are let through
(logged), since refusing every player is worse than not counting for a while. The count goes
through the hot path's breaker (apps.accounts.hotcache): after Redis failed to answer, requests
are let through without asking it for REDIS_BREAKER_SECONDS (leased positions are still taken).

Leases: a count is a position in its window (the n-th request). While a budget has plenty left,
one round trip reserves RATELIMIT_LEASE_SIZE positions for this process, which its next requests
on that budget take without asking Redis. Positions are never shared, so no more than `limit`
requests are ever let through and each answer's RateLimit-Remaining is exact for the requests a
process has seen. Within LEASE_SIZE x LEASE_FLOOR_FACTOR of the limit every request asks Redis
for one position, as without leases; what other processes still hold unused then (at most
LEASE_SIZE - 1 each) can refuse a client that many requests early, and positions a process held
when it stopped are not given back.

The counter is written here rather than taken from django-ratelimit: its public `get_usage` costs
three cache round trips per count, and every player request pays for one count.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
import zlib
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from apps.accounts import hotcache
from apps.accounts.errors import RateLimited
from apps.accounts.models import Game
from gamingpanel.headers import HasMeta
from gamingpanel.metrics import RATE_LIMIT_REFUSALS
from gamingpanel.shortcache import register_clearable

logger = logging.getLogger(__name__)

MINUTE, HOUR = 60, 3600
EXPIRY_MARGIN_SECONDS = 5  # a count outlives its window a little, never a whole one
IPV6_PREFIX = 64  # one household or host gets one IPv6 /64: count it as one address


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    reset_seconds: int
    exceeded: bool
    group: str = ""  # api:session, auth:address or auth:game: gp_rate_limit_refusals_total's label

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


# Create the count with the window's expiry if it is new, then reserve the next positions:
# ARGV[2] of them while at least ARGV[2] * ARGV[4] remain below the limit ARGV[3], else one.
# Atomic, one round trip; answers the last position reserved and how many.
RESERVE_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local want = tonumber(ARGV[2])
if tonumber(ARGV[3]) - tonumber(redis.call('GET', KEYS[1])) < want * tonumber(ARGV[4]) then
  want = 1
end
return {redis.call('INCRBY', KEYS[1], want), want}
"""
# Leases only while this many leases' worth remains: near the limit, every process counts exactly.
LEASE_FLOOR_FACTOR = 8


class LeaseBook:
    """This process's reserved, not yet taken positions, per counted window. Threads share it;
    two threads that both found none reserve two leases, and both are kept."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        # key -> ranges [next position, last position], the one being taken first
        self._ranges: dict[str, list[list[int]]] = {}
        self._window_ends: dict[str, float] = {}  # key -> when its window ends (time.time)
        self._lock = threading.Lock()

    def take(self, key: str) -> int | None:
        """The next reserved position of this window, or None when none is left."""
        with self._lock:
            ranges = self._ranges.get(key)
            if not ranges:
                return None
            current = ranges[0]
            position = current[0]
            if position < current[1]:
                current[0] = position + 1
            else:
                ranges.pop(0)
                if not ranges:
                    del self._ranges[key]
                    self._window_ends.pop(key, None)
            return position

    def keep(self, key: str, first: int, last: int, *, window_ends: float) -> None:
        """Positions first..last are this process's to take, until its window ends."""
        if first > last:
            return
        with self._lock:
            if key not in self._ranges and len(self._ranges) >= self.max_entries:
                self._forget_ended_windows()
            if key not in self._ranges and len(self._ranges) >= self.max_entries:
                # Rare: more budgets with leases left than a process serves in a window. Their
                # positions are counted in Redis already: dropping them under-spends, never over.
                self._ranges.clear()
                self._window_ends.clear()
            self._ranges.setdefault(key, []).append([first, last])
            self._window_ends[key] = window_ends

    def _forget_ended_windows(self) -> None:
        """Leases of windows that have ended (their keys are never asked for again)."""
        now = time.time()
        for key in [key for key, ends in self._window_ends.items() if ends <= now]:
            del self._ranges[key], self._window_ends[key]

    def clear(self) -> None:
        with self._lock:
            self._ranges.clear()
            self._window_ends.clear()


_leases = register_clearable(LeaseBook())


def window_end(value: str, period_seconds: int, now: float) -> int:
    """The end of the fixed window `now` falls in, for this counted value. Each value's windows
    are shifted by a hash of it, so not every budget resets at the same moment."""
    shift = zlib.crc32(value.encode()) % period_seconds
    return int((now - shift) // period_seconds + 1) * period_seconds + shift


def spend(*, group: str, value: str, limit: int, period_seconds: int) -> Budget | None:
    """Count one request against `limit` per window of `period_seconds` for `value`; None when
    not counted (RATELIMIT_ENABLE off, or the cache unreachable)."""
    if not settings.RATELIMIT_ENABLE:
        return None
    now = time.time()
    ends_at = window_end(value, period_seconds, now)
    expires_in = int(ends_at - now) + EXPIRY_MARGIN_SECONDS
    try:
        count = _count(f"rl:{group}:{ends_at}:{value}", expires_in, limit, window_ends=ends_at)
    except hotcache.RedisSkipped:
        return None  # the breaker logged when it opened
    except Exception:
        logger.exception("rate limit cache unavailable; request not counted")
        return None
    return Budget(
        group=group,
        limit=limit,
        remaining=max(0, limit - count),
        # Rounded up: a client that waits RateLimit-Reset (Retry-After) seconds is in the next
        # window, not the fraction of a second before it ends (and refused again).
        reset_seconds=max(1, math.ceil(ends_at - now)),
        exceeded=count > limit,
    )


def _count(key: str, expires_in: int, limit: int, *, window_ends: float) -> int:
    """This request's position in the window: a leased one, else one reserved now."""
    cache = caches[settings.RATELIMIT_USE_CACHE]
    if settings.RATELIMIT_USE_CACHE == "default" and hotcache.write_server() is not None:
        if (position := _leases.take(key)) is not None:
            return position
        want = settings.RATELIMIT_LEASE_SIZE
        # The script answers two integers (redis-py types any script's answer as a str).
        last, reserved = cast(
            list[int],
            hotcache.run_hot_script(
                RESERVE_SCRIPT,
                [cache.make_key(key)],
                [expires_in, want, limit, LEASE_FLOOR_FACTOR],
            ),
        )
        first = last - reserved + 1
        _leases.keep(key, first + 1, last, window_ends=window_ends)
        return first
    # Any other cache (local memory without REDIS_URL): add, then increment, through its API.
    cache.add(key, 0, timeout=expires_in)
    return cache.incr(key)


def enforce(*budgets: Budget | None) -> None:
    """429 for the first exhausted budget."""
    for budget in budgets:
        if budget is not None and budget.exceeded:
            RATE_LIMIT_REFUSALS.labels(budget.group).inc()
            raise RateLimited(
                f"Too many requests; retry in {budget.reset_seconds} s.",
                headers={**budget.headers(), "Retry-After": str(budget.reset_seconds)},
            )


def tightest(*budgets: Budget | None) -> Budget | None:
    """The budget closest to running out: the one whose headers an answer shows. An exceeded
    budget wins a tie, so a 429's RateLimit-* headers agree with its Retry-After."""
    counted = [budget for budget in budgets if budget is not None]
    return min(counted, key=lambda budget: (not budget.exceeded, budget.remaining), default=None)


def client_address(request: HasMeta) -> str:
    """The caller's address as the budget counts it: REMOTE_ADDR, or the META key a trusted
    proxy sets (RATELIMIT_IP_META_KEY, e.g. HTTP_X_REAL_IP); an IPv6 address as its /64."""
    meta_key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    raw = request.META.get(meta_key, "")
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"No client address in {meta_key!r}: behind a proxy set RATELIMIT_IP_META_KEY."
        ) from None
    if address.version == 6:
        # An IPv4 client seen through a dual-stack listener (::ffff:1.2.3.4) is that IPv4
        # address: its /64 would be "::", one budget for every IPv4 client.
        if (mapped := address.ipv4_mapped) is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return str(address)


def login_client_address(request: HasMeta) -> str | None:
    """django-axes' AXES_CLIENT_IP_CALLABLE: the address operator logins are counted by, as the
    API's budgets count it; None for a request that came through no server (a test's
    force_login), which axes then counts under no address."""
    try:
        return client_address(request)
    except ImproperlyConfigured:
        if request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"):
            raise  # an address that is not one: a misconfigured proxy, not a test
        return None


def spend_session_budget(*, session_id: int, game: Game) -> Budget | None:
    """Per login session, not per access token: a refresh mints a new token, not a new budget."""
    per_hour = game.rate_limit_per_hour or settings.RATE_LIMIT_PER_HOUR
    return spend(group="api:session", value=str(session_id), limit=per_hour, period_seconds=HOUR)


def spend_address_budget(request: HasMeta) -> Budget | None:
    return spend(
        group="auth:address",
        value=client_address(request),
        limit=settings.AUTH_RATE_LIMIT_PER_MINUTE,
        period_seconds=MINUTE,
    )


def spend_game_budget(*, game_id: int) -> Budget | None:
    return spend(
        group="auth:game",
        value=str(game_id),
        limit=settings.AUTH_GAME_RATE_LIMIT_PER_MINUTE,
        period_seconds=MINUTE,
    )
