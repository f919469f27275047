"""Request budgets: fixed windows counted in the shared cache (Redis: one atomic script, one round
trip), so every web process spends from the same count.

- Player endpoints: RATE_LIMIT_PER_HOUR per login session (every access token its refreshes mint
  spends from the same count), or the game's own `rate_limit_per_hour`.
  Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).
- Login and refresh: AUTH_RATE_LIMIT_PER_MINUTE per client address and
  AUTH_GAME_RATE_LIMIT_PER_MINUTE per game, against credential stuffing.

Over a budget: `429 rate_limited` with `Retry-After`. Cache down: requests are let through
(logged), since refusing every player is worse than not counting for a while.

The counter is written here rather than taken from django-ratelimit: its public `get_usage` costs
three cache round trips per count, and every player request pays for one count.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Protocol, cast

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from apps.accounts import hotcache
from apps.accounts.errors import RateLimited
from apps.accounts.models import Game
from gamingpanel.metrics import RATE_LIMIT_REFUSALS

logger = logging.getLogger(__name__)

MINUTE, HOUR = 60, 3600
EXPIRY_MARGIN_SECONDS = 5  # a count outlives its window a little, never a whole one
IPV6_PREFIX = 64  # one household or host gets one IPv6 /64: count it as one address


class HasMeta(Protocol):
    META: dict  # Django's HttpRequest and DRF's Request both carry it


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


# Create the count with the window's expiry if it is new, then add one: atomic, one round trip.
COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


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
        count = _count(f"rl:{group}:{ends_at}:{value}", expires_in)
    except Exception:
        logger.exception("rate limit cache unavailable; request not counted")
        return None
    return Budget(
        group=group,
        limit=limit,
        remaining=max(0, limit - count),
        reset_seconds=max(1, int(ends_at - now)),
        exceeded=count > limit,
    )


def _count(key: str, expires_in: int) -> int:
    cache = caches[settings.RATELIMIT_USE_CACHE]
    if settings.RATELIMIT_USE_CACHE == "default" and (client := hotcache.redis_client()):
        # INCR answers an integer (redis-py types any script's answer as a maybe-awaitable str).
        return cast(int, client.eval(COUNT_SCRIPT, 1, cache.make_key(key), str(expires_in)))
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
