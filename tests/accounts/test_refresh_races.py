"""A refresh racing what ends its session, on PostgreSQL with real threads: the refresh waits
for the session's lock, then answers as the session ended."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Player
from apps.accounts.services.bans import ban_player
from tests.accounts.conftest import REFRESH, assert_problem
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_refresh_that_waited_for_a_ban_says_the_player_is_banned(tokens):
    """The refresh's row lock on the session waits for the ban's commit and then reads the
    session as the ban left it; the player it read in the same statement is the row from before
    the ban (PostgreSQL re-reads only the locked row). Answered as banned all the same: 403
    player_banned, as a refresh just after the ban, not 401 token_revoked ("log in again")."""
    player = Player.objects.get(pk=tokens["player"]["id"])
    banned, commit = threading.Event(), threading.Event()

    def ban() -> None:
        with transaction.atomic():
            ban_player(player=player, reason="cheating", until=None, actor=None)
            banned.set()  # the ban holds the player's sessions until it commits
            commit.wait(10)

    banning = in_thread(ban)
    assert banned.wait(10)
    refreshing = in_thread(
        lambda: APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]})
    )
    wait_until_a_statement_waits_for_a_lock()
    commit.set()
    banning.result(10)

    assert_problem(refreshing.result(10), 403, "player_banned")
    assert AuthSession.objects.get().revoke_reason == AuthSession.RevokeReason.PLAYER_BANNED
