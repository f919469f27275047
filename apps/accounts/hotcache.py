"""The shared Redis as the token-validation hot path uses it: one held connection per thread for
the scripts that count budgets and publish revocations, and reads of cached values through
Django's cache API, which wrote them.

Revocation markers must be read where they were written: configure the cache with one Redis
server (or its primary), not a replica list. Without REDIS_URL there is no client, and values
live in the local-memory cache.

The calls every request makes (the revocation marker and server key reads, the rate-limit count)
go through one per-process `breaker`: once such a call cannot connect or times out, they skip
Redis for REDIS_BREAKER_SECONDS, raising RedisSkipped at once, and their callers do what they do
with Redis down (ask the database; let the request through uncounted). A Redis that accepts
connections but never answers thus costs one request per window REDIS_SOCKET_TIMEOUT, not every
request twice that.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.commands.core import Script
from redis.typing import EncodableT

from gamingpanel.shortcache import register_clearable

logger = logging.getLogger(__name__)

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


@functools.cache
def write_server() -> str | None:
    config = settings.CACHES["default"]
    if config["BACKEND"] != REDIS_BACKEND:
        return None
    location = config["LOCATION"]
    return (re.split("[;,]", location) if isinstance(location, str) else location)[0]


@receiver(setting_changed)
def _forget_server(*, setting: str, **kwargs: object) -> None:
    if setting == "CACHES":
        write_server.cache_clear()


_per_thread = threading.local()


def redis_client() -> redis.Redis | None:
    """One connection per thread, held: a pooled client checks each connection out and back
    (with a readiness poll), which costs more than the MGET itself."""
    server = write_server()
    if server is None:
        return None
    if getattr(_per_thread, "server", None) != server:
        _per_thread.client = redis.Redis.from_url(
            server,
            single_connection_client=True,
            # A half-open connection must not hang a request.
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_keepalive=True,
            health_check_interval=30,
        )
        _per_thread.server = server
    return _per_thread.client


_scripts: dict[str, Script] = {}


def run_script(client: redis.Redis, source: str, keys: list[str], args: list[EncodableT]) -> object:
    """A Lua script by its SHA (EVALSHA, loaded on first use or after a Redis restart): the
    source is sent once per Redis, not with every call. redis-py's Script, run on `client`."""
    script = _scripts.get(source)
    if script is None:
        script = _scripts.setdefault(source, client.register_script(source))
    return script(keys=keys, args=args, client=client)


class RedisSkipped(redis.exceptions.ConnectionError):
    """Redis was not asked: a hot-path call failed on this process within REDIS_BREAKER_SECONDS.
    A ConnectionError, so whatever handles Redis being down handles it (a 503 if unhandled)."""


class Breaker:
    """Closed: every call goes to Redis. A call that cannot connect or times out opens it: calls
    then raise RedisSkipped without a round trip until REDIS_BREAKER_SECONDS have passed. Then
    one call goes to Redis (the others still skip while it waits): its answer closes the breaker,
    its failure opens it for another window. Threads of the process share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until: float | None = None  # time.monotonic(); None: closed
        self._probing = False

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Around one hot-path call to Redis; raises RedisSkipped instead while open."""
        probe = self._admit()
        failed = False
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            failed = True
            self._opened(error)
            raise
        finally:
            with self._lock:
                if probe:
                    self._probing = False
                if not failed and self._open_until is not None:
                    self._open_until = None
                    logger.info("Redis answers again; hot-path calls use it")

    def _admit(self) -> bool:
        """True when this call is the one trying Redis again after a window."""
        with self._lock:
            if self._open_until is None:
                return False
            if self._probing or time.monotonic() < self._open_until:
                raise RedisSkipped("Redis failed on this process moments ago; not asked")
            self._probing = True
            return True

    def _opened(self, error: Exception) -> None:
        seconds = settings.REDIS_BREAKER_SECONDS
        if seconds <= 0:
            return
        with self._lock:
            if self._open_until is None:
                logger.warning(
                    "Redis did not answer (%s); hot-path calls skip it for %s s",
                    type(error).__name__,
                    seconds,
                )
            self._open_until = time.monotonic() + seconds

    def clear(self) -> None:
        with self._lock:
            self._open_until = None
            self._probing = False


breaker = register_clearable(Breaker())


def get_many(keys: list[str]) -> list[object | None]:
    """Values (None when absent) in the order of `keys`, in one round trip, through the breaker;
    raises when the cache is unreachable, or RedisSkipped."""
    with breaker.guard():
        found = caches["default"].get_many(keys)
    return [found.get(key) for key in keys]


def add(key: str, value: object, timeout: float) -> bool:
    """cache.add through the breaker."""
    with breaker.guard():
        return caches["default"].add(key, value, timeout)


def run_hot_script(source: str, keys: list[str], args: list[EncodableT]) -> object:
    """run_script on this thread's client, through the breaker (connecting is inside it too: a
    held connection is made when the client is). Only with Redis configured (write_server())."""
    with breaker.guard():
        client = redis_client()
        if client is None:
            raise RuntimeError("no Redis configured (REDIS_URL)")
        return run_script(client, source, keys, args)
