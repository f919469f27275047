"""Request budgets, counted with django-ratelimit's keys and windows in the shared cache (Redis:
one atomic SET NX + INCR), so every web process spends from the same count.

- Player endpoints: RATE_LIMIT_PER_HOUR per access token, or the game's own `rate_limit_per_hour`.
  Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).
- Login and refresh: AUTH_RATE_LIMIT_PER_MINUTE per client address and
  AUTH_GAME_RATE_LIMIT_PER_MINUTE per game, against credential stuffing.

Over a budget: `429 rate_limited` with `Retry-After`. Cache down: requests are let through
(logged), since refusing every player is worse than not counting for a while.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit import core as ratelimit_core
from django_ratelimit.core import get_usage
from redis import Redis

from apps.accounts import hotcache
from apps.accounts.errors import RateLimited
from apps.accounts.models import Game

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    reset_seconds: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


def spend(
    request: HttpRequest,
    *,
    group: str,
    key: str | Callable[[str, HttpRequest], str],
    limit: int,
    period: str,
) -> Budget | None:
    """Count one request against `limit` per `period` ("m", "h"); None when not counted.

    `key` is a django-ratelimit key: "ip", or a callable giving the value to count by.
    """
    try:
        if callable(key) and (client := hotcache.redis_client()) is not None:
            usage = _count_in_redis(client, request, group=group, key=key, rate=f"{limit}/{period}")
        else:
            usage = get_usage(
                request,
                group=group,
                key=key,
                rate=f"{limit}/{period}",
                increment=True,
            )
    except Exception:
        logger.exception("rate limit cache unavailable; request not counted")
        return None
    if usage is None or usage["time_left"] < 0:  # disabled, or the cache answered nothing
        return None
    return Budget(
        limit=limit,
        remaining=max(0, limit - usage["count"]),
        reset_seconds=max(1, usage["time_left"]),
        exceeded=usage["should_limit"],
    )


# get_usage's cache.add(key, 1) then cache.incr(key), as one atomic script on the held
# connection (a pipeline would check out a second one).
COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


def _count_in_redis(
    client: Redis,
    request: HttpRequest,
    *,
    group: str,
    key: Callable[[str, HttpRequest], str],
    rate: str,
) -> dict | None:
    """django-ratelimit's get_usage(increment=True), with the same key, window and count, in
    one round trip: its cache calls take three (SET NX, then EXISTS and INCR), on every
    request of every player."""
    if not settings.RATELIMIT_ENABLE:
        return None
    limit, period = ratelimit_core._split_rate(rate)
    value = key(group, request)
    window = ratelimit_core._get_window(value, period)
    cache_key = caches[settings.RATELIMIT_USE_CACHE].make_key(
        ratelimit_core._make_cache_key(group, window, rate, value, ratelimit_core.ALL)
    )
    count = client.eval(COUNT_SCRIPT, 1, cache_key, period + ratelimit_core.EXPIRATION_FUDGE)
    return {
        "count": count,
        "limit": limit,
        "should_limit": count > limit,
        "time_left": window - int(ratelimit_core.time.time()),  # the clock of its windows
    }


def enforce(*budgets: Budget | None) -> None:
    """429 for the first exhausted budget."""
    for budget in budgets:
        if budget is not None and budget.exceeded:
            raise RateLimited(
                f"Too many requests; retry in {budget.reset_seconds} s.",
                headers={**budget.headers(), "Retry-After": str(budget.reset_seconds)},
            )


def tightest(*budgets: Budget | None) -> Budget | None:
    """The budget closest to running out: the one whose headers an answer shows. An exceeded
    budget wins a tie, so a 429's RateLimit-* headers agree with its Retry-After."""
    counted = [budget for budget in budgets if budget is not None]
    return min(counted, key=lambda budget: (not budget.exceeded, budget.remaining), default=None)


def spend_token_budget(request: HttpRequest, *, token_id: str, game: Game) -> Budget | None:
    per_hour = game.rate_limit_per_hour or settings.RATE_LIMIT_PER_HOUR
    return spend(
        request,
        group="api:access-token",
        key=lambda _group, _request: token_id,
        limit=per_hour,
        period="h",
    )


def spend_address_budget(request: HttpRequest) -> Budget | None:
    return spend(
        request,
        group="auth:address",
        key="ip",
        limit=settings.AUTH_RATE_LIMIT_PER_MINUTE,
        period="m",
    )


def spend_game_budget(request: HttpRequest, *, game_id: int) -> Budget | None:
    return spend(
        request,
        group="auth:game",
        key=lambda _group, _request: str(game_id),
        limit=settings.AUTH_GAME_RATE_LIMIT_PER_MINUTE,
        period="m",
    )
