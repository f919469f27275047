"""The shared Redis as the token-validation hot path uses it: one held connection per thread for
the scripts that count budgets and publish revocations, and reads of cached values through
Django's cache API, which wrote them.

Revocation markers must be read where they were written: configure the cache with one Redis
server (or its primary), not a replica list. Without REDIS_URL there is no client, and values
live in the local-memory cache.
"""

from __future__ import annotations

import functools
import re
import threading

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.commands.core import Script
from redis.typing import EncodableT

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


def get_many(keys: list[str]) -> list[object | None]:
    """Values (None when absent) in the order of `keys`, in one round trip; raises when the
    cache is unreachable."""
    found = caches["default"].get_many(keys)
    return [found.get(key) for key in keys]
