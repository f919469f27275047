"""A ban takes the player out of the rank index of every open period once it has committed, as
the player's state then stands; an unban puts the entries back."""

from __future__ import annotations

import pytest

from apps.accounts.services.bans import ban_player, unban_player
from apps.leaderboards import index
from apps.leaderboards.selectors import player_entry
from apps.leaderboards.services.ranking import rebuild_index
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_a_bans_callback_that_runs_after_the_unbans_leaves_the_player_ranked(
    board, make_players, django_capture_on_commit_callbacks
):
    a, b = make_players(2)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30), (b, 20)])
    period = current(board)
    rebuild_index(period_id=period.pk)

    with django_capture_on_commit_callbacks() as late:
        ban_player(player=a, reason="afk", until=None, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        unban_player(player=a, actor=None)
    for callback in late:  # the ban's, slow: it follows the player as it is now
        callback()

    assert index.left_out(period.pk, [a.pk, b.pk]) == set()
    assert player_entry(period=period, player_id=b.pk).rank == 2


def test_a_player_unbanned_scores_where_the_ban_found_no_entry(
    board, make_board, make_players, django_capture_on_commit_callbacks
):
    other = make_board("other")
    a, b = make_players(2)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30)])
        scores(other, [(b, 20)], prefix="o")
    period = current(other)
    rebuild_index(period_id=period.pk)

    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=a, reason="afk", until=None, actor=None)
    assert index.left_out(period.pk, [a.pk]) == {a.pk}  # kept out there too
    with django_capture_on_commit_callbacks(execute=True):
        unban_player(player=a, actor=None)
        scores(other, [(a, 50)], prefix="after")

    assert index.left_out(period.pk, [a.pk, b.pk]) == set()
    assert player_entry(period=period, player_id=b.pk).rank == 2


def test_a_ban_writes_no_keys_for_a_period_without_an_index(
    board, make_players, django_capture_on_commit_callbacks
):
    (a,) = make_players(1)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30)])
    period = current(board)
    index.forget(period.pk)  # lost, or closed meanwhile: the next build reads PostgreSQL

    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=a, reason="afk", until=None, actor=None)

    keys = index.Keys.of(period.pk)
    assert not index._client().exists(keys.members, keys.versions, keys.ready, keys.building)
