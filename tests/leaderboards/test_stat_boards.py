"""Stat boards follow match results: each value a match reports for the board's stat is a score,
once per match and player, however often the match is posted."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.leaderboards.models import Board, Entry
from apps.multiplayer.services.matches import PlayerLine, record_match_result
from apps.stats.models import StatDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture
def kills_board(game, make_board):
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    StatDefinition.objects.create(game=game, key="deaths", name="Deaths")
    return make_board(
        "kills", source=Board.Source.STAT, stat_key="kills", operator=Board.Operator.SUM
    )


def play(game, match_id: str, lines: list[PlayerLine]) -> None:
    now = timezone.now()
    record_match_result(
        game=game, match_id=match_id, mode="", started_at=now, ended_at=now, players=lines
    )


def test_match_results_feed_the_stat_board_once_per_match(game, kills_board, make_players):
    a, b = make_players(2)
    first = [
        PlayerLine(a.pk, "win", stats={"kills": 5}),
        PlayerLine(b.pk, "loss", stats={"deaths": 2}),
    ]
    play(game, "m1", first)
    play(game, "m1", first)  # posted again, as it was
    play(
        game,
        "m2",
        [PlayerLine(a.pk, "win", stats={"kills": 3}), PlayerLine(b.pk, "win", stats={"kills": 1})],
    )

    assert dict(Entry.objects.values_list("player_id", "score")) == {a.pk: 8, b.pk: 1}


def test_a_match_without_the_stat_leaves_the_board_alone(game, kills_board, make_players):
    (a,) = make_players(1)
    play(game, "m1", [PlayerLine(a.pk, "win", stats={"deaths": 1})])

    assert not Entry.objects.exists()


def test_a_match_id_of_the_longest_length_feeds_the_board(game, kills_board, make_players):
    # The board's submission id is "match:<match id>:<player id>": with a 100-character match
    # id it passed the column's old 100 characters, and the whole match failed (a 500).
    (a,) = make_players(1)
    play(game, "m" * 100, [PlayerLine(a.pk, "win", stats={"kills": 4})])

    assert dict(Entry.objects.values_list("player_id", "score")) == {a.pk: 4}
