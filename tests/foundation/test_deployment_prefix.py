"""Deployments sharing one Redis server stay apart: every key and channel carries the prefix."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from kombu import Connection

from apps.accounts import hotcache
from apps.accounts.markers import marker_key
from apps.accounts.mirror import channel, publish
from tests.foundation.probe import configured

pytestmark = pytest.mark.redis


PREFIXES = (
    "{'cache': settings.CACHES['default'].get('KEY_PREFIX'),"
    " 'broker': settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix'],"
    " 'results': settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS['global_keyprefix']}"
)


def test_the_prefix_defaults_to_the_database_name_and_reaches_celery():
    first = configured(PREFIXES, DATABASE_URL="postgres://u@db:5432/studio_a")
    second = configured(PREFIXES, DATABASE_URL="postgres://u@db:5432/studio_b")
    named = configured(
        PREFIXES, DATABASE_URL="postgres://u@db:5432/studio_a", DEPLOYMENT_NAME="eu-live"
    )

    assert first == {"cache": "gp-studio_a", "broker": "gp-studio_a:", "results": "gp-studio_a:"}
    assert second["cache"] == "gp-studio_b"
    assert named["cache"] == "gp-eu-live"


def _prefixed(prefix: str) -> dict:
    return {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}


def _subscribed(client: redis.Redis) -> redis.client.PubSub:
    pubsub = client.pubsub()
    pubsub.subscribe(channel())
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    return pubsub


def _published(pubsub: redis.client.PubSub, *, within: float) -> dict | None:
    """The next published message (confirmations of the subscription skipped), or None."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        message = pubsub.get_message(timeout=left)
        if message is not None and message["type"] == "message":
            return message
    return None


def test_two_deployments_do_not_see_each_others_revocations_or_keys():
    client = redis.Redis.from_url(settings.REDIS_URL)
    with override_settings(CACHES=_prefixed("gp-studio_a")):
        own = _subscribed(client)
    with override_settings(CACHES=_prefixed("gp-studio_b")):
        other = _subscribed(client)
        publish(
            hotcache.redis_client(),
            markers={marker_key(7): "logout"},
            message={"sessions": {"7": "logout"}},
        )
        assert cache.get(marker_key(7)) == "logout"
    try:
        with override_settings(CACHES=_prefixed("gp-studio_a")):
            assert cache.get(marker_key(7)) is None
            assert _published(own, within=0.5) is None
        message = _published(other, within=1)
        assert message is not None
        assert message["data"].endswith(b'{"sessions":{"7":"logout"}}')
    finally:
        own.close()
        other.close()


def test_celery_queues_carry_the_prefix():
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    queue_name = "prefix-check"
    with Connection(
        settings.REDIS_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    ) as connection:
        queue = connection.SimpleQueue(queue_name)
        queue.put({"n": 1})
        try:
            assert client.llen(f"{prefix}{queue_name}") == 1
            assert not client.exists(queue_name)
            assert queue.get(timeout=1).payload == {"n": 1}
        finally:
            queue.close()
    assert prefix == f"{settings.CACHE_KEY_PREFIX}:"
