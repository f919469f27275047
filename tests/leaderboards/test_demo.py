"""The demo game gets a weekly board with last week's closed and paid period and entries in this
week's, and a daily best-lap board players submit to, idempotently."""

from __future__ import annotations

import pytest

from apps.devdocs.demo_seed import seed_demo_game
from apps.leaderboards import demo
from apps.leaderboards.models import Board, Entry, Payout, Period

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_weekly_board_with_entries_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        game = seed_demo_game()
        seed_demo_game()

    board = Board.objects.get(game=game, slug=demo.SLUG)
    assert board.reset == Board.Reset.WEEKLY
    last_week, this_week = Period.objects.filter(board=board).order_by("number")
    assert (last_week.state, this_week.state) == ("closed", "open")
    assert last_week.ends_at == this_week.starts_at <= this_week.ends_at
    for period in (last_week, this_week):
        assert Entry.objects.filter(period=period).count() == len(demo.DEMO_PLAYERS)
    assert board.brackets.count() == 2
    paid = Payout.objects.filter(period=last_week)
    # Ten ranked: the podium (3) and the rest of the top half (2), each paid once.
    assert paid.count() == 5 and not paid.filter(paid_at=None).exists()
    lap = Board.objects.get(game=game, slug=demo.LAP_SLUG)
    assert lap.allow_client_submissions and lap.order == Board.Order.LOWER
