"""The per-process revocation mirror: answers without Redis while it provably is current, hears
every revocation within a second, and stops being used (or reloads from the database) when it
could have missed one."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts import hotcache
from apps.accounts.markers import READY_KEY, marker_key, rebuild_markers
from apps.accounts.mirror import MISS, VERSION_KEY, mirror
from apps.accounts.models import AuthSession, ServerKey
from apps.accounts.revocation import revocation_reason
from apps.accounts.selectors import cached_server_key, server_key_cache_key
from apps.accounts.services.sessions import log_out
from apps.accounts.services.tenancy import revoke_server_key
from tests.conftest import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SECOND = 1.0


def session_id() -> int:
    return AuthSession.objects.get().pk


def trusted() -> bool:
    return mirror.revocation(session_id()) is not MISS


def raw_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def redis_unreachable() -> mock._patch:
    return mock.patch.object(hotcache, "get_many", side_effect=ConnectionError("no Redis"))


def test_a_current_mirror_answers_without_asking_redis(running_mirror, tokens):
    eventually(trusted, within=3)

    with redis_unreachable() as get_many:
        assert revocation_reason(session_id()) is None

    assert get_many.call_count == 0


def test_a_logout_reaches_the_mirror_within_a_second(running_mirror, tokens):
    eventually(trusted, within=3)

    log_out(session_id=session_id())

    with redis_unreachable():  # only the push can tell it
        took = eventually(lambda: revocation_reason(session_id()) == "logout", within=SECOND)
    assert took < SECOND


def test_sessions_revoked_before_the_process_started_come_from_the_database(settings, tokens):
    AuthSession.objects.update(revoked_at=timezone.now(), revoke_reason="operator")
    settings.REVOCATION_MIRROR = True
    mirror.stop()
    try:
        mirror.start()
        eventually(trusted, within=3)
        assert mirror.revocation(session_id()) == "operator"
    finally:
        mirror.stop()


def test_a_lost_message_makes_the_mirror_reload_from_the_database(running_mirror, tokens):
    eventually(trusted, within=3)
    # A revocation committed and counted, whose message never arrived.
    AuthSession.objects.update(revoked_at=timezone.now(), revoke_reason="operator")
    raw_redis().incr(cache.make_key(VERSION_KEY))

    took = eventually(lambda: mirror.revocation(session_id()) == "operator", within=SECOND)
    assert took < SECOND


def cut_subscribers() -> None:
    """A network blip for this test's pub/sub connections (those on its Redis database), not for
    another test process's on the same server: CLIENT KILL TYPE pubsub has no database filter."""
    client = raw_redis()
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    cut = [c["id"] for c in client.client_list(_type="pubsub") if c["db"] == db]
    assert cut, "no subscriber to cut"
    for client_id in cut:
        client.client_kill_filter(_id=client_id)


def test_a_message_missed_while_disconnected_is_not_lost(running_mirror, tokens):
    eventually(trusted, within=3)
    cut_subscribers()
    log_out(session_id=session_id())  # published while the mirror may not be listening

    took = eventually(lambda: mirror.revocation(session_id()) == "logout", within=2 * SECOND)
    assert took < 2 * SECOND


def test_redis_restarting_empty_makes_the_mirror_reload_and_rebuild_the_markers(
    running_mirror, tokens
):
    eventually(trusted, within=3)
    AuthSession.objects.update(revoked_at=timezone.now(), revoke_reason="operator")
    cache.clear()  # FLUSHDB: the version, `ready` and every marker are gone

    eventually(lambda: mirror.revocation(session_id()) == "operator", within=SECOND)
    assert cache.get(READY_KEY) is not None


def test_a_marker_lost_while_ready_stayed_is_written_again_when_the_mirror_reloads(
    running_mirror, tokens, settings
):
    eventually(trusted, within=3)
    # Redis went away (every mirror lost its connection) while this revocation committed; its
    # publish and the reset of `ready` both failed: the database has it, Redis has `ready` but
    # no marker. The mirrors reload when Redis is back, before any sweep could see it missing.
    cut_subscribers()
    AuthSession.objects.update(revoked_at=timezone.now(), revoke_reason="logout")
    assert cache.get(READY_KEY) is not None and cache.get(marker_key(session_id())) is None

    eventually(lambda: cache.get(marker_key(session_id())) == "logout", within=3 * SECOND)
    settings.REVOCATION_MIRROR = False  # a process whose mirror is not trusted reads Redis
    assert revocation_reason(session_id()) == "logout"


def test_a_failed_publish_stops_the_mirror_being_trusted(running_mirror, tokens):
    eventually(trusted, within=3)
    with mock.patch("apps.accounts.revocation.publish", side_effect=ConnectionError("blip")):
        log_out(session_id=session_id())  # committed; neither marker nor message went out

    # `ready` was deleted: the mirror reloads from the database.
    took = eventually(lambda: mirror.revocation(session_id()) == "logout", within=SECOND)
    assert took < SECOND


def test_a_stopped_mirror_is_not_used(running_mirror, tokens):
    eventually(trusted, within=3)
    mirror.stop()
    with mock.patch.object(mirror, "start"):  # not restarted by the next request
        assert mirror.revocation(session_id()) is MISS


def test_server_keys_are_mirrored_until_revoked(running_mirror, game):
    from apps.accounts.services import create_server_key

    issued = create_server_key(game=game, name="main")
    eventually(lambda: mirror.revocation(0) is not MISS, within=3)
    assert cached_server_key(issued.raw_key) is not None  # read once, then mirrored

    with redis_unreachable() as get_many:
        assert cached_server_key(issued.raw_key).pk == issued.server_key.pk
    assert get_many.call_count == 0

    revoke_server_key(server_key=ServerKey.objects.get())

    eventually(lambda: cached_server_key(issued.raw_key) is None, within=SECOND)


def test_a_key_read_before_its_revocation_is_not_mirrored_after_it(running_mirror, game):
    from apps.accounts.services import create_server_key

    issued = create_server_key(game=game, name="main")
    eventually(lambda: mirror.revocation(0) is not MISS, within=3)
    generation = mirror.generation()
    stale = ServerKey.objects.get()  # read, then the key is revoked before it is kept

    revoke_server_key(server_key=stale)
    eventually(lambda: mirror.generation() != generation, within=SECOND)
    mirror.remember_server_key(stale.key_hash, stale, since=generation)

    assert mirror.server_key(stale.key_hash) is None
    assert cached_server_key(issued.raw_key) is None


def test_a_revocation_made_in_plain_sql_reaches_the_mirror_and_redis_within_a_second(
    running_mirror, tokens
):
    """No publish at all (a crash between commit and publish, an incident script): the
    database is swept for recent revocations, applied here and written as markers."""
    eventually(trusted, within=3)

    AuthSession.objects.update(revoked_at=timezone.now(), revoke_reason="operator")

    took = eventually(lambda: mirror.revocation(session_id()) == "operator", within=SECOND)
    eventually(lambda: cache.get(marker_key(session_id())) == "operator", within=SECOND)
    assert took < SECOND


def test_a_server_key_revoked_in_plain_sql_stops_on_the_mirror_within_a_second(
    running_mirror, game
):
    """No publish at all: the sweep finds the key revoked in the database, drops it from the
    mirror and replaces the copy in the shared cache by a tombstone."""
    from apps.accounts.services import create_server_key

    issued = create_server_key(game=game, name="main")
    eventually(lambda: mirror.revocation(0) is not MISS, within=3)
    assert cached_server_key(issued.raw_key) is not None  # cached in Redis and mirrored
    key_hash = issued.server_key.key_hash

    ServerKey.objects.update(revoked_at=timezone.now())

    took = eventually(lambda: cached_server_key(issued.raw_key) is None, within=SECOND)
    assert took < SECOND
    assert mirror.server_key(key_hash) is None
    eventually(lambda: cache.get(server_key_cache_key(key_hash)) == "revoked", within=SECOND)


def test_keys_revoked_while_redis_is_out_of_reach_are_all_revoked_and_stop_within_a_second(
    running_mirror, game, client
):
    """The operator's process cannot reach Redis (no publish, no tombstone, `ready` not reset):
    the admin answers as usual and revokes every selected key, and the other processes' mirrors
    (this one's, here) stop them through the sweep, so a reload does not read them back."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import GameAccess
    from apps.accounts.services import create_server_key, set_game_access

    owner = get_user_model().objects.create_user("olive", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    issued = [create_server_key(game=game, name=name) for name in ("eu-1", "us-1")]
    eventually(lambda: mirror.revocation(0) is not MISS, within=3)
    assert all(cached_server_key(key.raw_key) is not None for key in issued)

    down = redis.exceptions.ConnectionError("Redis out of this process's reach")
    with (
        mock.patch("apps.accounts.services.tenancy.publish", side_effect=down),
        mock.patch.object(cache, "set", side_effect=down),  # this thread's cache only
        mock.patch.object(cache, "delete", side_effect=down),
    ):
        response = client.post(
            "/admin/accounts/serverkey/",
            {"action": "revoke_selected", "_selected_action": [k.server_key.pk for k in issued]},
        )

    assert response.status_code == 302
    assert not ServerKey.objects.filter(revoked_at__isnull=True).exists()
    for key in issued:
        took = eventually(lambda key=key: cached_server_key(key.raw_key) is None, within=SECOND)
        assert took < SECOND
    mirror.stop()
    mirror.start()  # a process starting now reads what the cache says
    eventually(lambda: mirror.revocation(0) is not MISS, within=3)
    assert all(cached_server_key(key.raw_key) is None for key in issued)


def test_a_mirror_loading_replaces_a_revoked_keys_cached_copy_by_a_tombstone(settings, game):
    """A key revoked while no mirror ran (Redis out of everyone's reach, say) whose copy stayed
    in the cache: the first mirror to load writes its tombstone."""
    from apps.accounts.services import create_server_key

    issued = create_server_key(game=game, name="main")
    assert cached_server_key(issued.raw_key) is not None  # its copy is in the cache
    ServerKey.objects.update(revoked_at=timezone.now() - timedelta(seconds=30))
    settings.REVOCATION_MIRROR = True
    mirror.stop()
    try:
        mirror.start()
        eventually(lambda: mirror.revocation(0) is not MISS, within=3)
        assert cache.get(server_key_cache_key(issued.server_key.key_hash)) == "revoked"
        assert cached_server_key(issued.raw_key) is None
    finally:
        mirror.stop()


def test_every_rebuild_of_the_markers_has_its_own_ready_stamp(tokens):
    """A mirror tells two rebuilds apart even within one second (a failed publish deletes
    `ready` and the next request rebuilds it at once)."""
    stamps = set()
    for _ in range(3):
        cache.delete(READY_KEY)
        rebuild_markers()
        stamps.add(cache.get(READY_KEY))

    assert len(stamps) == 3


def test_a_key_read_just_before_its_revocation_is_not_cached_again(game):
    from apps.accounts import selectors
    from apps.accounts.services import create_server_key

    issued = create_server_key(game=game, name="main")
    stale = ServerKey.objects.get()  # read by a request while the revocation commits
    revoke_server_key(server_key=stale)

    with mock.patch.object(selectors, "active_server_key", return_value=stale):
        selectors.cached_server_key(issued.raw_key)  # this one request may still pass

    assert cache.get(selectors.server_key_cache_key(stale.key_hash)) == "revoked"
    assert cached_server_key(issued.raw_key) is None


def test_deployments_on_two_databases_of_one_redis_server_use_two_channels(settings):
    from apps.accounts.mirror import channel

    location = settings.CACHES["default"]["LOCATION"]
    base = location.rsplit("/", 1)[0] if location.count("/") > 2 else location
    names = []
    for db in ("0", "1"):
        settings.CACHES = {
            **settings.CACHES,
            "default": {**settings.CACHES["default"], "LOCATION": f"{base}/{db}"},
        }
        names.append(channel())

    # Pub/sub is one namespace for the whole server, whatever the database number.
    assert names[0] != names[1] and names[0].endswith(":db0") and names[1].endswith(":db1")
