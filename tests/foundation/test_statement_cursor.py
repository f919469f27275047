"""Compiled statements run through one kept cursor per database session and thread
(gamingpanel.sql.statement_cursor) on PostgreSQL; what Django's cursor does for every execute
still happens. (On SQLite each statement gets a new cursor, as every other test there shows.)"""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from apps.stats.models import PlayerProgress
from gamingpanel.sql import CompiledQuery, run_together, statement_cursor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

XP_OF = CompiledQuery.compile(
    "SELECT xp FROM {progress} WHERE player_id = %s", progress=PlayerProgress
)
# Not registered: the test that prepares every compiled statement would find it fails.
FAILS = CompiledQuery("SELECT xp FROM no_such_table WHERE id = %s", prepared=False)


def held() -> object:
    with statement_cursor() as cursor:
        return cursor


@pytest.fixture
def progress(player) -> PlayerProgress:
    return PlayerProgress.objects.create(player=player, xp=42)


def test_statements_of_one_session_share_one_cursor_and_each_answers_its_own(progress, player):
    first = held()

    assert XP_OF.rows([player.pk]) == [(42,)]
    assert XP_OF.row([player.pk + 1000]) is None
    assert run_together([(XP_OF, [player.pk]), (XP_OF, [player.pk])]) == [[(42,)], [(42,)]]
    assert held() is first


@pytest.mark.django_db(transaction=True)
def test_a_new_session_gets_a_new_cursor(progress, player):
    before = held()
    connection.close()

    assert XP_OF.rows([player.pk]) == [(42,)]  # the closed session's cursor is not used
    assert held() is not before


def test_a_cursor_closed_under_it_is_replaced(progress, player):
    before = held()
    before.close()

    assert XP_OF.rows([player.pk]) == [(42,)]
    assert held() is not before


def test_while_queries_are_recorded_each_statement_is_recorded(progress, player):
    held()  # a cursor is kept from before the recording starts

    with CaptureQueriesContext(connection) as captured:
        XP_OF.rows([player.pk])
        XP_OF.row([player.pk])

    assert len(captured) == 2  # (a PREPARE goes to the session aside, not as a query)


def test_an_execute_wrapper_added_after_the_cursor_was_kept_sees_every_statement(
    progress, player, executes
):
    held()
    executes.clear()

    XP_OF.rows([player.pk])
    run_together([(XP_OF, [player.pk])])

    assert len(executes) == 2


def test_an_error_is_djangos_and_the_kept_cursor_still_serves(progress, player):
    with pytest.raises(DatabaseError), transaction.atomic():
        FAILS.rows([0])

    assert XP_OF.rows([player.pk]) == [(42,)]


def test_a_broken_transaction_is_still_refused(progress, player):
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic():
            FAILS.rows([0])
            # the inner block rolls back to its savepoint; the outer one stays usable
        assert XP_OF.rows([player.pk]) == [(42,)]

        connection.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            XP_OF.rows([player.pk])  # Django's check before every execute, as a new cursor's


@pytest.mark.django_db(transaction=True)
def test_each_thread_has_its_own_cursor(player):
    PlayerProgress.objects.create(player=player, xp=7)
    mine = held()
    theirs: list[object] = []
    answers: list[object] = []

    def other_thread() -> None:
        try:
            answers.append(XP_OF.rows([player.pk]))
            theirs.append(held())
        finally:
            connections.close_all()  # this thread's own connection

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()

    assert answers == [[(7,)]]
    assert theirs and theirs[0] is not mine
    assert held() is mine
