"""A read (open_period_now) or a score submission that finds the open period due closes it
first, as the beat does: one that a new schedule moved between that finding and the close's lock
(a board without scores made weekly, follow_schedule) is not ended early there either, at the
current time as an extra empty period closed by "schedule"; the read shows it, the score lands
in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.leaderboards.models import Board, Entry, Period
from apps.leaderboards.schedule import window_at
from apps.leaderboards.services import periods, submit
from apps.leaderboards.services.periods import follow_schedule, open_period_now
from apps.leaderboards.services.submit import submit_score
from tests.leaderboards.conftest import current

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_daily_period(make_board):
    """A daily board's open period whose day is over (no score yet, not closed yet)."""
    board = make_board(reset=Board.Reset.DAILY)
    period = current(board)
    now = timezone.now()
    Period.objects.filter(pk=period.pk).update(
        starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )
    return board, period


def _made_weekly_before_the_close(board: Board, close):
    def operator_acts_first(**kwargs):
        # Between the finding (the period due) and the close: the operator makes the board
        # weekly; it holds no score, so its open period follows the new schedule.
        board.reset = Board.Reset.WEEKLY
        board.save(update_fields=["reset"])
        assert follow_schedule(board=board)
        return close(**kwargs)

    return operator_acts_first


def _still_open_on_the_new_schedule(board: Board, period: Period) -> None:
    period.refresh_from_db()
    assert period.state == Period.State.OPEN
    assert period.ends_at == window_at(board, timezone.now()).ends_at
    assert not Period.objects.filter(board=board, state=Period.State.CLOSED).exists()
    assert Period.objects.filter(board=board).count() == 1


def test_a_read_leaves_a_period_a_new_schedule_moved_after_it_was_found_due(
    due_daily_period, monkeypatch
):
    board, period = due_daily_period
    monkeypatch.setattr(
        periods, "close_period", _made_weekly_before_the_close(board, periods.close_period)
    )

    shown = open_period_now(board=board)

    assert shown.pk == period.pk
    _still_open_on_the_new_schedule(board, period)


def test_a_score_lands_in_a_period_a_new_schedule_moved_after_it_was_found_due(
    due_daily_period, make_players, monkeypatch
):
    board, period = due_daily_period
    (player,) = make_players(1)
    monkeypatch.setattr(
        submit, "close_period", _made_weekly_before_the_close(board, submit.close_period)
    )

    done = submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")

    assert done.period_id == period.pk
    assert Entry.objects.get(player=player).period_id == period.pk
    _still_open_on_the_new_schedule(board, period)
