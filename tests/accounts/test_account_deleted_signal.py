"""A token refused because its player erased the account says so: `401 token_revoked` with
`"account_deleted": true`, whichever path saw the revocation (this process's mirror, the cache
markers, the database, the refresh's session row, the erased player itself); every other
token_revoked has no such member (docs/guide/errors.md)."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import hotcache, revocation
from apps.accounts.markers import marker_key
from apps.accounts.mirror import MISS, mirror
from apps.accounts.models import AuthSession, Player
from apps.accounts.services.bans import ban_player, end_sessions, unban_player
from apps.accounts.services.sessions import log_out
from gamingpanel.shortcache import clear_every_cache
from tests.accounts.conftest import LOGOUT, REFRESH, assert_problem, bearer
from tests.conftest import eventually

EXPORT = "/api/v1/player/data-export"
ACCOUNT = "/api/v1/player?confirm=delete%20my%20account"
WWW_AUTHENTICATE = 'Bearer realm="api", error="invalid_token"'


def session_id() -> int:
    return AuthSession.objects.get().pk


def erase(tokens: dict, capture: Callable) -> None:
    with capture(execute=True):  # the revocation is published after the commit
        response = bearer(tokens["access_token"]).delete(ACCOUNT)
    assert response.status_code == 204, response.content
    clear_every_cache()  # the token's player is kept a second per process


def refresh(tokens: dict) -> object:
    return APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")


def assert_account_deleted(response: object) -> None:
    body = assert_problem(response, 401, "token_revoked")
    assert body["account_deleted"] is True
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE


def assert_only_revoked(response: object) -> None:
    body = assert_problem(response, 401, "token_revoked")
    assert "account_deleted" not in body
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE


# --- after an erasure: the member, on every path ------------------------------------------------


@pytest.mark.django_db
def test_the_cache_markers_say_the_account_was_deleted(tokens, django_capture_on_commit_callbacks):
    erase(tokens, django_capture_on_commit_callbacks)
    assert revocation.cache.get(marker_key(session_id())) == "player_erased"

    with mock.patch.object(
        revocation, "reason_from_database", wraps=revocation.reason_from_database
    ) as database:
        assert_account_deleted(bearer(tokens["access_token"]).get(EXPORT))
        assert_account_deleted(bearer(tokens["access_token"]).post(LOGOUT))
    assert database.call_count == 0  # the marker answered

    assert_account_deleted(refresh(tokens))  # the session's revoke_reason


@pytest.mark.django_db
def test_the_database_says_the_account_was_deleted_when_redis_is_out_of_reach(
    tokens, django_capture_on_commit_callbacks
):
    erase(tokens, django_capture_on_commit_callbacks)

    with (
        mock.patch.object(hotcache, "get_many", side_effect=ConnectionError("no Redis")),
        mock.patch.object(
            revocation, "reason_from_database", wraps=revocation.reason_from_database
        ) as database,
    ):
        assert_account_deleted(bearer(tokens["access_token"]).get(EXPORT))
        assert_account_deleted(bearer(tokens["access_token"]).post(LOGOUT))
    assert database.call_count == 2


@pytest.mark.django_db
def test_a_cache_that_lost_everything_says_the_account_was_deleted_after_its_rebuild(
    tokens, django_capture_on_commit_callbacks
):
    erase(tokens, django_capture_on_commit_callbacks)
    revocation.cache.clear()  # Redis restarted empty: the database answers, then the markers

    assert_account_deleted(bearer(tokens["access_token"]).get(EXPORT))
    assert revocation.cache.get(marker_key(session_id())) == "player_erased"
    assert_account_deleted(bearer(tokens["access_token"]).get(EXPORT))


@pytest.mark.django_db
def test_an_erased_player_not_yet_heard_of_says_the_account_was_deleted(tokens):
    # Another process's erasure, its revocation not published yet (or a login racing it).
    Player.objects.filter(pk=tokens["player"]["id"]).update(erased_at=timezone.now())
    AuthSession.objects.update(revoked_at=None, revoke_reason="")
    clear_every_cache()

    assert_account_deleted(bearer(tokens["access_token"]).get(EXPORT))
    assert_account_deleted(refresh(tokens))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_mirror_says_the_account_was_deleted(running_mirror, tokens):
    eventually(lambda: mirror.revocation(session_id()) is not MISS, within=3)

    response = bearer(tokens["access_token"]).delete(ACCOUNT)
    assert response.status_code == 204, response.content
    clear_every_cache()
    eventually(lambda: mirror.revocation(session_id()) == "player_erased", within=1)

    with mock.patch.object(hotcache, "get_many", side_effect=ConnectionError("no Redis")) as redis:
        assert_account_deleted(bearer(tokens["access_token"]).get(EXPORT))
        assert_account_deleted(bearer(tokens["access_token"]).post(LOGOUT))
    assert redis.call_count == 0  # the mirror answered
    assert_account_deleted(refresh(tokens))


@pytest.mark.django_db
@pytest.mark.parametrize("ended_by", ["ban", "logout"])
def test_a_session_that_ended_long_before_the_erasure_refreshes_as_deleted(
    tokens, django_capture_on_commit_callbacks, settings, ended_by
):
    """The erasure relabels only the sessions whose access tokens may still live; a refresh
    token lives 30 days. A banned player's device was told `player_banned` for good, and never
    learnt that the account, and the data it keeps of it, is gone."""
    from apps.accounts.services.privacy import erase_player

    player = Player.objects.get(pk=tokens["player"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        if ended_by == "ban":
            ban_player(player=player, reason="cheating", until=None, actor=None)
        else:
            log_out(session_id=session_id())
    long_ago = timezone.now() - settings.ACCESS_TOKEN_LIFETIME * 2
    AuthSession.objects.update(revoked_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=player, actor=None)
    clear_every_cache()

    assert_account_deleted(refresh(tokens))


# --- every other revocation: no member ----------------------------------------------------------


@pytest.mark.django_db
def test_a_logout_is_only_revoked(tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        log_out(session_id=session_id())

    assert_only_revoked(bearer(tokens["access_token"]).get(EXPORT))
    assert_only_revoked(refresh(tokens))


@pytest.mark.django_db
def test_sessions_an_operator_ended_are_only_revoked(tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        end_sessions(sessions=AuthSession.objects.all(), actor=None)

    assert_only_revoked(bearer(tokens["access_token"]).get(EXPORT))
    assert_only_revoked(bearer(tokens["access_token"]).post(LOGOUT))
    assert_only_revoked(refresh(tokens))


@pytest.mark.django_db
def test_a_reused_refresh_token_leaves_the_session_only_revoked(
    tokens, django_capture_on_commit_callbacks
):
    first = refresh(tokens).json()
    assert refresh(first).status_code == 200  # the first rotation's token is no longer the grace
    with django_capture_on_commit_callbacks(execute=True):
        assert_problem(refresh(tokens), 401, "refresh_token_reused")

    assert_only_revoked(bearer(tokens["access_token"]).get(EXPORT))
    assert_only_revoked(refresh(first))


@pytest.mark.django_db
def test_a_ban_that_ended_leaves_the_sessions_only_revoked(
    tokens, django_capture_on_commit_callbacks
):
    player = Player.objects.get(pk=tokens["player"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=player, reason="cheating", until=None, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        unban_player(player=player, actor=None)
    clear_every_cache()
    assert AuthSession.objects.get().revoke_reason == AuthSession.RevokeReason.BAN_ENDED

    assert_only_revoked(bearer(tokens["access_token"]).get(EXPORT))
    assert_only_revoked(refresh(tokens))
