"""A login that moves the player's identity to the platform's new id (move_to_new_id) racing a
refresh of one of the player's sessions, on PostgreSQL with real threads: the move locks the
player as login, link, unlink and a ban do (FOR NO KEY UPDATE), so the refresh's session start
(a row naming the player: a key-share lock on its row) neither waits for the login nor
deadlocks with it, whichever locked first."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Game, PlatformIdentity, Player
from apps.login.services import login as login_service
from apps.platforms.verifiers import VerifiedIdentity
from tests.accounts.conftest import REFRESH
from tests.conftest import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MOVED = VerifiedIdentity(
    platform_user_id="alice-new",
    display_name=None,
    entitlement_checked=True,
    previous_platform_user_id="alice",
)


def refresh(raw: str) -> object:
    with connection.cursor() as cursor:
        # A refresh that waits for a lock fails instead of hanging the test.
        cursor.execute("SET lock_timeout = '3s'")
    return APIClient().post(REFRESH, {"refresh_token": raw})


def test_a_refresh_does_not_wait_for_a_login_that_moved_the_players_identity(tokens):
    game = Game.objects.get()
    moved, finish = threading.Event(), threading.Event()

    def log_in_with_a_new_id() -> object:
        with transaction.atomic():  # the login's transaction, held open once the move is done
            result = login_service._open_for_identity(game=game, platform="dev", identity=MOVED)
            moved.set()
            finish.wait(15)
            return result

    login = in_thread(log_in_with_a_new_id)
    try:
        assert moved.wait(10)
        response = in_thread(lambda: refresh(tokens["refresh_token"])).result(10)
    finally:
        finish.set()
    result = login.result(10)

    assert response.status_code == 200, response.content  # not a lock timeout
    assert result.player.pk == tokens["player"]["id"]
    assert PlatformIdentity.objects.get().platform_user_id == "alice-new"
    assert AuthSession.objects.filter(revoked_at__isnull=True).count() == 2


def test_a_refresh_holding_its_session_and_a_login_that_moves_the_identity_both_finish(
    tokens, monkeypatch
):
    """The other order: the refresh has locked its session and not yet recorded its session
    start when the login moves the identity and commits."""
    game = Game.objects.get()
    locked, go = threading.Event(), threading.Event()
    record = login_service._record_session_start

    def held_record(session: AuthSession, *, kind: str) -> None:
        locked.set()
        go.wait(10)
        record(session, kind=kind)

    monkeypatch.setattr(login_service, "_record_session_start", held_record)
    refreshing = in_thread(lambda: refresh(tokens["refresh_token"]))
    try:
        assert locked.wait(10)
        result = in_thread(
            lambda: login_service._open_for_identity(game=game, platform="dev", identity=MOVED)
        ).result(10)
    finally:
        go.set()
    response = refreshing.result(10)

    assert response.status_code == 200, response.content
    assert result.player.pk == tokens["player"]["id"]
    assert Player.objects.count() == 1
    assert PlatformIdentity.objects.get().platform_user_id == "alice-new"
