"""The beat closes the periods it found due, at their end: one that stopped being due between
its list and its close (a board without scores given a new schedule, follow_schedule) is not its
to end, and above all not at the clock the beat read before the scores written since."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.leaderboards.models import Board, Entry, Period
from apps.leaderboards.schedule import window_at
from apps.leaderboards.services import periods
from apps.leaderboards.services.periods import close_due_periods, follow_schedule
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = pytest.mark.django_db


def test_the_beat_leaves_a_period_a_new_schedule_moved_after_it_was_found_due(
    make_board, make_players, monkeypatch
):
    board = make_board(reset=Board.Reset.DAILY)
    (a,) = make_players(1)
    period = current(board)  # read once, no score yet
    now = timezone.now()
    Period.objects.filter(pk=period.pk).update(
        starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )  # its day is over, the beat has not closed it yet
    beat_clock = timezone.now()
    close_period = periods.close_period

    def operator_acts_first(**kwargs):
        # Between the beat's list of due periods and its close: the operator makes the board
        # weekly (it holds no score: its open period follows), and a first score lands there.
        board.reset = Board.Reset.WEEKLY
        board.save(update_fields=["reset"])
        assert follow_schedule(board=board)
        scores(board, [(a, 10)])
        return close_period(**kwargs)

    monkeypatch.setattr(periods, "close_period", operator_acts_first)

    close_due_periods(now=beat_clock)

    period.refresh_from_db()
    entry = Entry.objects.get(player=a)
    assert period.state == Period.State.OPEN  # not ended at the beat's old clock
    assert period.ends_at == window_at(board, timezone.now()).ends_at  # the new schedule's end
    assert entry.period_id == period.pk
    # However the close goes, no period holds a score reached after its end.
    for closed in Period.objects.filter(board=board, state=Period.State.CLOSED):
        assert not Entry.objects.filter(period=closed, reached_at__gte=closed.ends_at).exists()
