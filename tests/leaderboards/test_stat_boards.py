"""Stat boards follow match results: each value a match reports for the board's stat is a score,
once per match and player, however often the match is posted. A match recorded just before its
period closed, but written after the close, counts in the next period from that period's start:
never in the closed one (its standings and payouts are final), never before the next one began."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory import demo as inventory_demo
from apps.leaderboards.models import Board, BracketReward, Entry, Payout, Period, Submission
from apps.leaderboards.services.payouts import pay_period
from apps.leaderboards.services.periods import close_period, open_period
from apps.leaderboards.services.submit import submit_score
from apps.multiplayer.models import Match
from apps.multiplayer.services import matches
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


@pytest.fixture
def daily_kills(game, make_board):
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    inventory_demo.seed(game)
    board = make_board("k", source=Board.Source.STAT, stat_key="kills", reset="daily")
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=1, contents=[{"currency": "gold", "quantity": 10}]
    )
    return board


def final_standings(period: Period) -> list[tuple[int, int]]:
    return list(Entry.objects.filter(period=period).values_list("player_id", "score"))


def payouts_of(period: Period) -> list[tuple[int, int]]:
    return list(Payout.objects.filter(period=period).values_list("player_id", "rank"))


@pytest.mark.parametrize("source", ["stat", "server"])
def test_a_score_whose_moment_fell_in_a_closed_period_counts_from_the_next_ones_start(
    game, make_board, make_players, source
):
    """The reviewer's case: the moment (a match's, recorded at 23:59:59.950) is in the period
    that closed before the score was written (at 00:00:00.001, by another submission). It used
    to land in the next period with a reached_at before that period began: it ranked ahead of
    every tie there and read as yesterday's score in today's standings."""
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    inventory_demo.seed(game)
    fields = {"source": "stat", "stat_key": "kills"} if source == "stat" else {}
    board = make_board("k", reset="daily", **fields)
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=1, contents=[{"currency": "gold", "quantity": 10}]
    )
    late, early = make_players(2)
    first = open_period(board=board)
    submit_score(
        board=board, player_id=early.pk, score=3, submission_id="m0", via_stat=source == "stat"
    )
    moment = timezone.now()
    close_period(period_id=first.pk, now=moment + timedelta(milliseconds=5))
    pay_period(period_id=first.pk)
    standings, paid = final_standings(first), payouts_of(first)

    done = submit_score(
        board=board,
        player_id=late.pk,
        score=7,
        submission_id="m1",
        via_stat=source == "stat",
        at=moment,
    )

    following = Period.objects.get(board=board, state="open")
    entry = Entry.objects.get(player=late)
    assert (entry.period_id, done.period_id, done.period_number) == (
        following.pk,
        following.pk,
        2,
    )
    assert entry.reached_at == done.reached_at == following.starts_at
    assert Submission.objects.get(submission_id="m1").created_at == following.starts_at
    # The closed period is as it was closed: its standings and its payouts.
    assert (final_standings(first), payouts_of(first)) == (standings, paid)
    assert paid == [(early.pk, 1)]


def test_a_match_whose_period_closed_while_it_was_recorded_counts_in_the_next_one(
    game, daily_kills, make_players, monkeypatch
):
    """A match recorded at the end of the day, whose transaction was still running when the
    period closed: every one of its players lands in the next period, from its start."""
    a, b = make_players(2)
    first = open_period(board=daily_kills)
    real_season_xp = matches.add_season_xp

    def close_meanwhile(**kwargs):
        # After the match row (its recorded_at) and before the stat boards hear of it.
        close_period(period_id=first.pk, now=timezone.now() + timedelta(milliseconds=5))
        return real_season_xp(**kwargs)

    monkeypatch.setattr(matches, "add_season_xp", close_meanwhile)

    play(
        game,
        "late",
        [PlayerLine(a.pk, "win", stats={"kills": 5}), PlayerLine(b.pk, "loss", stats={"kills": 2})],
    )

    following = Period.objects.get(board=daily_kills, state="open")
    recorded_at = Match.objects.get(match_id="late").recorded_at
    assert recorded_at < following.starts_at
    assert not Entry.objects.filter(period=first).exists()
    pay_period(period_id=first.pk)
    assert not Payout.objects.exists()
    assert list(
        Entry.objects.filter(period=following)
        .order_by("player")
        .values_list("player_id", "score", "reached_at")
    ) == [(a.pk, 5, following.starts_at), (b.pk, 2, following.starts_at)]
