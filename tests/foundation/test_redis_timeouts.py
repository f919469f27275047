"""A Redis that stops answering without closing its connections (a network partition, a hung
server) fails a cache call within REDIS_SOCKET_TIMEOUT instead of holding the request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A server that accepts connections, reads what it is sent and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_a_cache_call_to_a_redis_that_never_answers_fails_within_the_timeout(
    silent_redis: str,
) -> None:
    configured = settings.CACHES["default"]
    assert configured["BACKEND"].endswith("RedisCache")
    cache = RedisCache(silent_redis, {**configured, "LOCATION": silent_redis})

    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        cache.get_many(["gp-marker-1", "gp-ready"])
    waited = time.monotonic() - started

    assert "Timeout" in type(raised.value).__name__
    assert settings.REDIS_SOCKET_TIMEOUT <= waited < settings.REDIS_SOCKET_TIMEOUT + 2
