"""The demo game gets a weekly board with seeded entries, idempotently."""

from __future__ import annotations

import pytest

from apps.devdocs.demo_seed import seed_demo_game
from apps.leaderboards import demo
from apps.leaderboards.models import Board, Entry

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_weekly_board_with_entries_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        game = seed_demo_game()
        seed_demo_game()

    board = Board.objects.get(game=game, slug=demo.SLUG)
    assert board.reset == Board.Reset.WEEKLY
    assert Entry.objects.filter(period__board=board).count() == len(demo.DEMO_PLAYERS)
    assert board.brackets.count() == 2
