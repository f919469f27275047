"""A Redis that accepts connections but never answers: the hot path's breaker
(apps.accounts.hotcache) holds one request per window, not every request twice; revocation still
refuses a revoked session (from the database); once the window has passed Redis is asked again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from redis.exceptions import TimeoutError as RedisTimeout
from rest_framework.test import APIClient

from apps.accounts import hotcache
from apps.accounts.models import AuthSession
from apps.accounts.revocation import revocation_reason
from apps.accounts.selectors import cached_server_key
from tests.accounts.conftest import assert_problem, bearer
from tests.accounts.server_urls import WHOAMI

pytestmark = [pytest.mark.urls("tests.accounts.server_urls"), pytest.mark.django_db]

HANG = 1.0  # REDIS_SOCKET_TIMEOUT here: how long a call waits on the hung Redis
WINDOW = 2.0  # REDIS_BREAKER_SECONDS here
# A request that did not wait on Redis (SQLite and the test client included), with room for a
# loaded machine (a clean-clone CI run once stalled one for 0.66 s): still below a request that
# waited once (at least 0.9 × HANG), as that one is below a request that waited twice.
FAST = 0.8


def redis_at(location: str) -> dict:
    return {
        "default": {
            "BACKEND": hotcache.REDIS_BACKEND,
            "LOCATION": location,
            "OPTIONS": {"socket_timeout": HANG, "socket_connect_timeout": HANG},
        }
    }


@pytest.fixture
def hung_redis(settings) -> Iterator[None]:  # noqa: ANN001
    """The cache and the hot path's client point at a socket that accepts and never replies."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    settings.REDIS_SOCKET_TIMEOUT = HANG
    settings.REDIS_BREAKER_SECONDS = WINDOW
    settings.CACHES = redis_at(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
    yield
    stop.set()
    holder.join()
    for connection in held:
        connection.close()
    listener.close()


def timed(client: APIClient) -> tuple[float, object]:
    started = time.monotonic()
    response = client.get(WHOAMI)
    return time.monotonic() - started, response


def test_a_hung_redis_holds_one_request_per_window(tokens, hung_redis):
    client = bearer(tokens["access_token"])

    first, response = timed(client)
    assert response.status_code == 200
    # The revocation read waited and opened the breaker: the count did not wait too.
    assert HANG * 0.9 <= first < 2 * HANG * 0.9
    assert "RateLimit-Limit" not in response  # uncounted, as with Redis down

    later = [timed(client) for _ in range(5)]
    assert all(response.status_code == 200 for _, response in later)
    assert max(took for took, _ in later) < FAST

    time.sleep(WINDOW)
    again, response = timed(client)  # the window is over: Redis is asked (and fails) again
    assert response.status_code == 200
    assert HANG * 0.9 <= again < 2 * HANG * 0.9
    skipped, _ = timed(client)
    assert skipped < FAST


def test_a_revoked_session_is_refused_while_redis_is_skipped(tokens, hung_redis):
    client = bearer(tokens["access_token"])
    assert timed(client)[1].status_code == 200  # opens the breaker
    AuthSession.objects.update(revoked_at=timezone.now(), revoke_reason="operator")

    took, response = timed(client)

    assert_problem(response, 401, "token_revoked")
    assert took < FAST
    assert revocation_reason(AuthSession.objects.get().pk) == "operator"


def test_server_keys_are_read_from_the_database_while_redis_is_skipped(
    game, server_key, hung_redis
):
    started = time.monotonic()
    assert cached_server_key(server_key) is not None  # waits, opens the breaker
    assert time.monotonic() - started >= HANG * 0.9

    started = time.monotonic()
    assert cached_server_key(server_key) is not None
    assert time.monotonic() - started < FAST


def test_while_one_call_tries_redis_again_the_others_still_skip_it(hung_redis):
    with pytest.raises(RedisTimeout):
        hotcache.get_many(["a"])
    time.sleep(WINDOW)
    trying = threading.Thread(target=lambda: pytest.raises(RedisTimeout, hotcache.get_many, ["a"]))
    trying.start()
    time.sleep(HANG / 5)  # the retry is under way

    started = time.monotonic()
    with pytest.raises(hotcache.RedisSkipped):
        hotcache.get_many(["b"])
    assert time.monotonic() - started < FAST
    trying.join()
    with pytest.raises(hotcache.RedisSkipped):  # the retry failed: a new window
        hotcache.get_many(["b"])


@pytest.mark.redis
def test_a_redis_that_answers_again_is_used_again(tokens, hung_redis, settings):
    client = bearer(tokens["access_token"])
    assert "RateLimit-Limit" not in timed(client)[1]  # opens the breaker
    settings.CACHES = redis_at(django_settings.REDIS_URL)  # Redis is back
    assert "RateLimit-Limit" not in timed(client)[1]  # within the window: not asked

    time.sleep(WINDOW)

    assert [("RateLimit-Limit" in timed(client)[1]) for _ in range(3)] == [True] * 3
