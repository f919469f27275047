"""Cache reads on the token-validation hot path: one MGET on the shared Redis, values decoded
as Django's RedisCache wrote them (writes stay on the cache API).

Django's cache API costs three times a raw MGET here (key validation per key, a pooled client
per call) and reads from a replica when several servers are configured; revocation markers must
be read where they were written, so this reads the first (write) server. Any other backend (local
memory when REDIS_URL is unset) goes through the cache API.
"""

from __future__ import annotations

import functools
import re
import threading

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisSerializer
from django.core.signals import setting_changed
from django.dispatch import receiver

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
_serializer = RedisSerializer()


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
            socket_timeout=2,  # a half-open connection must not hang a request
            socket_connect_timeout=2,
            socket_keepalive=True,
            health_check_interval=30,
        )
        _per_thread.server = server
    return _per_thread.client


def dumps(value: object) -> bytes:
    """A value as Django's RedisCache stores it, for writes made with the raw client."""
    return _serializer.dumps(value)


def get_many(keys: list[str]) -> list[object | None]:
    """Values (None when absent) in the order of `keys`; raises when the cache is unreachable."""
    default_cache = caches["default"]
    client = redis_client()
    if client is None:
        found = default_cache.get_many(keys)
        return [found.get(key) for key in keys]
    raw_values = client.mget([default_cache.make_key(key) for key in keys])
    return [None if raw is None else _serializer.loads(raw) for raw in raw_values]
