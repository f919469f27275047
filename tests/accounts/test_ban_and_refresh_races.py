"""A ban racing a refresh (no deadlock: the refresh commits, then the ban revokes its session)
and a refresh that waited for an erasure (it says the account was deleted), on PostgreSQL with
real threads."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.privacy import erase_player
from apps.accounts.services.sessions import log_out
from tests.accounts.conftest import REFRESH, assert_problem, refresh_racing
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_ban_and_a_refresh_that_locked_the_session_first_do_not_deadlock(tokens, monkeypatch):
    """The refresh holds its session's lock and then records its session start (a row naming
    the player: a key-share lock on the player's row); the ban holds the player's row and then
    waits for the session. The ban's lock must not be one the refresh's insert waits for."""
    player = Player.objects.get(pk=tokens["player"]["id"])

    response, _ = refresh_racing(
        tokens["refresh_token"],
        lambda: ban_player(player=player, reason="cheating", until=None, actor=None),
        monkeypatch,
    )

    assert response.status_code == 200, response.content
    session = AuthSession.objects.get()
    assert session.revoke_reason == AuthSession.RevokeReason.PLAYER_BANNED
    assert Player.objects.get(pk=player.pk).is_banned


@pytest.mark.parametrize("ended_by", ["ban", "logout"])
def test_a_refresh_that_waited_for_the_erasure_says_the_account_was_deleted(
    tokens, settings, ended_by
):
    """A session that ended long before the erasure (a ban, a logout) is still written by it (its
    platform account id is cleared): a refresh racing the erasure waits for that row, then reads
    the session as the erasure left it but the player as it was before (PostgreSQL re-reads only
    the locked row). Answered as after the erasure all the same: 401 token_revoked with
    account_deleted, not 403 player_banned or a plain token_revoked, which would leave the device
    keeping the deleted account's data."""
    player = Player.objects.get(pk=tokens["player"]["id"])
    if ended_by == "ban":
        ban_player(player=player, reason="cheating", until=None, actor=None)
    else:
        log_out(session_id=AuthSession.objects.get().pk)
    AuthSession.objects.update(revoked_at=timezone.now() - settings.ACCESS_TOKEN_LIFETIME * 2)
    erased, commit = threading.Event(), threading.Event()

    def erase() -> None:
        with transaction.atomic():
            erase_player(player=player, actor=None)
            erased.set()  # the erasure holds the session's row until it commits
            commit.wait(10)

    erasing = in_thread(erase)
    assert erased.wait(10)
    refreshing = in_thread(
        lambda: APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]})
    )
    wait_until_a_statement_waits_for_a_lock()
    commit.set()
    erasing.result(10)

    body = assert_problem(refreshing.result(10), 401, "token_revoked")
    assert body["account_deleted"] is True
