"""A refresh racing what ends its session, on PostgreSQL with real threads: the refresh waits
for the session's lock, then answers as the session ended."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Player
from apps.accounts.services.bans import ban_player
from tests.accounts.conftest import REFRESH, assert_problem
from tests.conftest import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_until_a_statement_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Until another session of this database waits for a lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no statement waited for a lock")


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
