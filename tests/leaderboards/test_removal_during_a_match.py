"""An operator's removal of a player's entry while a match of that player is being recorded:
the match's stat-board score, written after the removal, starts a new entry that the rank index
holds. Its version was the match's moment (Match.recorded_at, before the removal), older than
the removal's, so the index kept the removal and left the new entry out: the player was ranked
in the lists and missing from the index (every rank below them one too high) until the repair
task's count check dropped it (PostgreSQL and Redis, real threads)."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.utils import timezone

from apps.leaderboards import index
from apps.leaderboards.models import Board, Entry
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.submit import submit_score
from apps.multiplayer.services import matches
from apps.multiplayer.services.matches import PlayerLine, record_match_result
from apps.stats.models import StatDefinition
from tests.conftest import in_thread
from tests.leaderboards.conftest import current

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_score_written_after_a_removal_during_its_match_is_in_the_rank_index(
    game, make_board, make_players
):
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    board = make_board(
        "kills", source=Board.Source.STAT, stat_key="kills", operator=Board.Operator.SUM
    )
    first, other = make_players(2)
    submit_score(board=board, player_id=first.pk, score=5, submission_id="old", via_stat=True)
    submit_score(board=board, player_id=other.pk, score=3, submission_id="o", via_stat=True)
    period = current(board)
    assert index.is_ready(period.pk)

    arrived, go_on = threading.Event(), threading.Event()
    add_xp = matches.add_xp

    def held_after_its_stats(**kwargs: object) -> object:
        arrived.set()  # the match is recorded (its moment read), its board score still to come
        go_on.wait(10)
        return add_xp(**kwargs)

    def play() -> None:
        now = timezone.now()
        record_match_result(
            game=game,
            match_id="m-1",
            mode="",
            started_at=now,
            ended_at=now,
            players=[PlayerLine(first.pk, "win", stats={"kills": 7})],
        )

    with mock.patch.object(matches, "add_xp", held_after_its_stats):
        match = in_thread(play)
        try:
            assert arrived.wait(10)
            # The operator resets the player's entry meanwhile (committed at once).
            assert remove_entry(entry=Entry.objects.get(player=first), actor=None, reason="x")
        finally:
            go_on.set()
        match.result(10)

    entry = Entry.objects.get(period=period, player=first)
    assert entry.score == 7  # a new entry, from the match
    # The index holds it, where PostgreSQL ranks it: first, above the other player.
    assert index.left_out(period.pk, [first.pk, other.pk]) == set()
    member = index.member_of(
        rank_key=entry.rank_key, reached_at=entry.reached_at, player_id=first.pk
    )
    assert index.rank_of(period.pk, member) == 0
    assert index.indexed_count(period.pk) == 2
