"""A period's close racing an operator's save of its board, on PostgreSQL with real threads: no
deadlock, both land."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest
from django.db import DatabaseError, OperationalError, transaction

from apps.leaderboards.models import Board, Period
from apps.leaderboards.selectors import boards_with_history, lock_for_deletion
from apps.leaderboards.services.periods import close_period, follow_schedule
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.conftest import current

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _until_it_waits_for_a_lock_or_ends(work: Future, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not work.done():
        assert time.monotonic() < deadline, "neither waited for a lock nor ended"
        try:
            wait_until_a_statement_waits_for_a_lock(timeout=0.05)
            return
        except AssertionError:
            continue


def test_a_close_and_a_board_save_that_follows_the_schedule_do_not_deadlock(board):
    """The board's admin save (one transaction) updates the board's row, then moves its open
    period to the new schedule (follow_schedule: the period FOR UPDATE). A close (the beat, or an
    operator's End now) locks the period, and must not then wait for the board's row: with the
    board locked FOR UPDATE too (the ORM's default for a joined row) the close waited for the
    save while the save waited for the period, and one of them failed."""
    period = current(board)
    saved, go = threading.Event(), threading.Event()

    def save_board() -> bool:
        with transaction.atomic():
            locked = Board.objects.get(pk=board.pk)
            locked.reset = Board.Reset.DAILY
            locked.save()  # the admin's save_model: the board's row is held to the commit
            saved.set()
            go.wait(10)
            return follow_schedule(board=locked)

    saving = in_thread(save_board)
    assert saved.wait(10)
    closing = in_thread(lambda: close_period(period_id=period.pk))
    _until_it_waits_for_a_lock_or_ends(closing)
    go.set()

    closed = closing.result(15)
    saving.result(15)
    assert closed is not None and closed.pk == period.pk
    assert Period.objects.get(pk=period.pk).state == Period.State.CLOSED
    following = Period.objects.get(board=board, state=Period.State.OPEN)
    assert following.number == period.number + 1


def _locked(period_id: int) -> bool:
    """Whether another transaction holds the period's row (NOWAIT: at once)."""
    try:
        with transaction.atomic():
            list(Period.objects.select_for_update(nowait=True, of=("self",)).filter(pk=period_id))
    except DatabaseError:
        return True
    return False


def test_a_close_and_a_board_deletion_do_not_deadlock(board):
    """The admin's deletion of a board with no history (one nobody scored on) locks the board,
    then its periods (selectors.lock_for_deletion, in the delete view's transaction), and waits
    for the one a close of its due period (the beat) holds; the close opens the following period
    and commits, when PostgreSQL checks the new period's board (deferred foreign key: KEY SHARE
    on the board). The deletion locks the board FOR NO KEY UPDATE, which lets that by (FOR
    UPDATE did not: a deadlock), then locks the period the close committed too, and deletes the
    board with both."""
    period = current(board)
    closed, go = threading.Event(), threading.Event()

    def close_held() -> None:
        with transaction.atomic():
            assert close_period(period_id=period.pk) is not None
            closed.set()  # the period held, the following one not committed yet
            go.wait(10)

    def delete_board() -> None:
        with transaction.atomic():
            lock_for_deletion([board])
            # The following period, committed by the close while the deletion waited, is held
            # too: no score lands in it between the history check and the delete.
            following = Period.objects.get(board=board, state=Period.State.OPEN)
            assert following.pk != period.pk
            assert in_thread(lambda: _locked(following.pk)).result(10)
            assert not boards_with_history([board])
            Board.objects.filter(pk=board.pk).delete()

    closing = in_thread(close_held)
    assert closed.wait(10)
    deleting = in_thread(delete_board)
    wait_until_a_statement_waits_for_a_lock()  # the deletion, for the period
    go.set()

    errors = []
    for work in (closing, deleting):
        try:
            work.result(15)
        except OperationalError as error:
            errors.append(error)
    if errors:
        raise errors[0]
    assert not Board.objects.filter(pk=board.pk).exists()
    assert not Period.objects.filter(board_id=board.pk).exists()
