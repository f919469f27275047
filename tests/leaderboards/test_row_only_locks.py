"""A lock on a period or a board holds that row only, on PostgreSQL: Period's and Board's
ordering (["board", "-number"], ["game", "slug"]) joins the board and the game, and FOR UPDATE
without OF locked every joined row too, so an operator's schedule change held the game's row
(which every insert naming the game waits for) and the board's."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.db.models import Model

from apps.accounts.models import Game
from apps.leaderboards.models import Board, Period
from apps.leaderboards.selectors import lock_for_schedule_change
from apps.leaderboards.services.periods import follow_schedule
from tests.conftest import in_thread
from tests.leaderboards.conftest import current

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free(model: type[Model], pk: int) -> bool:
    """Whether another connection may lock the row FOR UPDATE at once (NOWAIT): nobody holds
    any lock on it."""

    def probe() -> bool:
        try:
            with transaction.atomic():
                rows = model._default_manager.select_for_update(nowait=True, of=("self",))
                list(rows.filter(pk=pk).order_by().values_list("pk"))
        except DatabaseError:
            return False
        return True

    return bool(in_thread(probe).result(10))


def test_follow_schedule_locks_the_open_period_and_not_its_board_or_game(board, game):
    period = current(board)
    with transaction.atomic():
        follow_schedule(board=board)
        assert not _free(Period, period.pk)  # the period it may move is held
        assert _free(Board, board.pk)
        assert _free(Game, game.pk)


def test_a_schedule_change_locks_the_board_and_not_its_game(board, game):
    current(board)
    with transaction.atomic():
        assert lock_for_schedule_change(board)
        assert not _free(Board, board.pk)
        assert _free(Game, game.pk)
