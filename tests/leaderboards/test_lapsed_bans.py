"""A timed ban takes the player's entries out of the rank index; when it ends by itself (no
operator unbans), the beat task puts them back, so ranks count the player again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player
from apps.leaderboards import index
from apps.leaderboards.services.ranking import rebuild_index, restore_lapsed_bans
from apps.leaderboards.tasks import restore_lapsed_bans as restore_task
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_a_lapsed_ban_puts_the_entries_back_once(
    board, make_players, django_capture_on_commit_callbacks
):
    a, b, c = make_players(3)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30), (b, 20), (c, 10)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=a, reason="afk", until=timezone.now() + timedelta(hours=1), actor=None)
        ban_player(player=b, reason="afk", until=timezone.now() + timedelta(days=3), actor=None)
    assert index.left_out(period.pk, [a.pk, b.pk, c.pk]) == {a.pk, b.pk}

    now = timezone.now() + timedelta(hours=1, seconds=1)  # a's ban is over, b's is not
    assert restore_lapsed_bans(now=now) == 1

    assert index.left_out(period.pk, [a.pk, b.pk, c.pk]) == {b.pk}
    entry = period.entries.get(player=a)
    member = index.member_of(rank_key=entry.rank_key, reached_at=entry.reached_at, player_id=a.pk)
    assert index.rank_of(period.pk, member) == 0  # first again, ahead of c
    assert restore_lapsed_bans(now=now) == 0  # already back: nothing to do


def test_bans_that_ended_long_ago_or_boards_without_an_index_are_left_alone(
    board, make_players, django_capture_on_commit_callbacks
):
    (a,) = make_players(1)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 5)])
    Player.objects.filter(pk=a.pk).update(banned_until=timezone.now() - timedelta(days=2))

    assert restore_lapsed_bans() == 0  # outside the window
    Player.objects.filter(pk=a.pk).update(banned_until=timezone.now() - timedelta(minutes=1))
    index.forget(current(board).pk)
    assert restore_task.apply().get() == 0  # no ready index: a rebuild reads PostgreSQL anyway
