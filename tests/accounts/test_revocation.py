"""Revocation is shared: every process sees it at once, and the database stays the truth."""

import time
from unittest import mock

import pytest
from django.core.cache import cache

from apps.accounts.markers import READY_KEY, marker_key
from apps.accounts.models import AuthSession, Player
from apps.accounts.revocation import revocation_reason
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import log_out
from tests.accounts.conftest import REFRESH, VALIDATE

SECOND = 1.0


def session_id() -> int:
    return AuthSession.objects.get().pk


@pytest.mark.django_db
def test_revocation_writes_a_marker_after_commit(tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as hooks:
        log_out(session_id=session_id())
        assert cache.get(marker_key(session_id())) is None  # not before the commit

    for hook in hooks:
        hook()
    assert cache.get(marker_key(session_id())) == "logout"


@pytest.mark.django_db
def test_a_cache_that_lost_everything_falls_back_to_the_database_and_rebuilds(
    tokens, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log_out(session_id=session_id())
    cache.clear()  # Redis restarted empty

    assert revocation_reason(session_id()) == "logout"
    assert cache.get(READY_KEY) is not None
    assert cache.get(marker_key(session_id())) == "logout"


@pytest.mark.django_db
def test_a_live_session_is_not_refused_after_a_rebuild(tokens):
    cache.clear()
    assert revocation_reason(session_id()) is None
    assert revocation_reason(session_id()) is None  # now from the cache


@pytest.mark.django_db
def test_an_unreadable_cache_means_asking_the_database(tokens):
    AuthSession.objects.update(revoked_at="2026-01-01T00:00:00Z", revoke_reason="operator")
    with mock.patch("apps.accounts.hotcache.get_many", side_effect=ConnectionError("down")):
        assert revocation_reason(session_id()) == "operator"


@pytest.mark.django_db
def test_a_failed_marker_write_makes_every_process_ask_the_database(
    tokens, django_capture_on_commit_callbacks
):
    revocation_reason(session_id())  # markers complete
    assert cache.get(READY_KEY) is not None
    with (
        mock.patch.object(cache, "set_many", side_effect=ConnectionError("blip")),
        mock.patch("apps.accounts.revocation.publish", side_effect=ConnectionError("blip")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        log_out(session_id=session_id())

    assert cache.get(READY_KEY) is None
    assert revocation_reason(session_id()) == "logout"


def seconds_until_refused(web, server_key: str, token: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 5:
        status, _, body = web.request(
            "POST", VALIDATE, {"token": token}, {"X-Server-Key": server_key}
        )
        assert status == 200
        if body["valid"] is False:
            return time.monotonic() - started
        time.sleep(0.01)
    return float("inf")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_logout_is_seen_by_another_process_within_a_second(start_web, tokens, server_key):
    web = start_web()
    _, _, before = web.request(
        "POST", VALIDATE, {"token": tokens["access_token"]}, {"X-Server-Key": server_key}
    )
    assert before["valid"] is True

    log_out(session_id=session_id())

    assert seconds_until_refused(web, server_key, tokens["access_token"]) < SECOND
    _, _, after = web.request(
        "POST", VALIDATE, {"token": tokens["access_token"]}, {"X-Server-Key": server_key}
    )
    assert after == {"valid": False, "reason": "token_revoked"}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_ban_is_seen_by_another_process_within_a_second(start_web, tokens, server_key):
    web = start_web()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert web.request("GET", "/api/v1/test/whoami", headers=headers)[0] == 200

    ban_player(player=Player.objects.get(), reason="cheating", until=None, actor=None)

    assert seconds_until_refused(web, server_key, tokens["access_token"]) < SECOND
    status, _, body = web.request("GET", "/api/v1/test/whoami", headers=headers)
    assert (status, body["code"]) == (403, "player_banned")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_revocation_outlives_a_redis_restart(start_web, tokens, server_key):
    web = start_web()
    log_out(session_id=session_id())
    cache.clear()  # Redis came back empty

    _, _, body = web.request(
        "POST", VALIDATE, {"token": tokens["access_token"]}, {"X-Server-Key": server_key}
    )

    assert body == {"valid": False, "reason": "token_revoked"}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_tokens_survive_a_restart_of_the_web_processes(start_web, dev_platform, server_key):
    first = start_web()
    status, _, tokens = first.request(
        "POST",
        "/api/v1/auth/third-party/login",
        {"platform": "dev", "credentials": {"user_id": "alice"}},
        {"X-Game-Key": "alpha-client-key"},
    )
    assert status == 200
    first.stop()

    restarted = start_web()
    _, _, check = restarted.request(
        "POST", VALIDATE, {"token": tokens["access_token"]}, {"X-Server-Key": server_key}
    )
    status, _, pair = restarted.request("POST", REFRESH, {"refresh_token": tokens["refresh_token"]})

    assert check["valid"] is True and check["player_id"] == tokens["player"]["id"]
    assert status == 200 and pair["refresh_token"] != tokens["refresh_token"]
