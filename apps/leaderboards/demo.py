"""The demo game's boards: a weekly high score (game servers submit) with last week's closed
period, its final standings and payouts, and entries in this week's; and a daily best lap that
players submit themselves (lower is better)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.accounts.demo import demo_player
from apps.accounts.models import Game, Player
from apps.leaderboards import index
from apps.leaderboards.models import Board, BracketReward, Entry, Period
from apps.leaderboards.schedule import window_at
from apps.leaderboards.services.payouts import pay_period
from apps.leaderboards.services.periods import close_period, open_period
from apps.leaderboards.services.submit import submit_score

SLUG = "weekly-score"
LAP_SLUG = "best-lap"
DEMO_PLAYERS = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"]


def seed(game: Game) -> None:
    """A weekly high-score board (servers submit), top-3 and top-50 % brackets, ten entries."""
    board, _ = Board.objects.get_or_create(
        game=game,
        slug=SLUG,
        defaults={
            "name": "Weekly high score",
            "order": Board.Order.HIGHER,
            "operator": Board.Operator.BEST,
            "reset": Board.Reset.WEEKLY,
        },
    )
    if not board.brackets.exists():
        BracketReward.objects.create(
            board=board,
            position=1,
            name="Podium",
            rank_from=1,
            rank_to=3,
            contents=[{"currency": "gems", "quantity": 10}],
        )
        BracketReward.objects.create(
            board=board,
            position=2,
            name="Top half",
            top_percent=50,
            contents=[{"currency": "gold", "quantity": 50}],
        )
    last_week = window_at(board, timezone.now() - timedelta(days=7))
    players = [
        demo_player(
            game,
            f"demo-{name.lower()}",
            created_at=last_week.starts_at - timedelta(days=1, minutes=-n),
        )
        for n, name in enumerate(DEMO_PLAYERS)
    ]
    if not board.periods.exists():
        _last_week(board, players)
    period = open_period(board=board)
    for n, (name, player) in enumerate(zip(DEMO_PLAYERS, players, strict=True)):
        submit_score(
            board=board,
            player_id=player.pk,
            score=1000 - 70 * n,
            submission_id=f"demo-seed:{period.number}:{name.lower()}",
        )
    Board.objects.get_or_create(
        game=game,
        slug=LAP_SLUG,
        defaults={
            "name": "Best lap (ms)",
            "order": Board.Order.LOWER,
            "operator": Board.Operator.BEST,
            "reset": Board.Reset.DAILY,
            "allow_client_submissions": True,
        },
    )


def _last_week(board: Board, players: list[Player]) -> None:
    """Period 1: last week's, closed on schedule with its final standings, and paid (the
    history the panel and `GET leaderboards/{slug}/periods/1` show). Its entries are written as
    they stood when it closed; period 2, this week's, opens at the close."""
    window = window_at(board, timezone.now() - timedelta(days=7))
    assert window.ends_at is not None  # a weekly board's window ends
    period = Period.objects.create(
        board=board, number=1, starts_at=window.starts_at, ends_at=window.ends_at
    )
    entries = []
    for n, player in enumerate(players):
        score = 900 - 55 * ((n * 3) % len(players))  # another order than this week's
        reached_at = window.starts_at + timedelta(days=1, hours=n)
        entries.append(
            Entry(
                period=period,
                player=player,
                score=score,
                rank_key=-score,
                reached_at=reached_at,
                version=index.version_at(reached_at),
            )
        )
    Entry.objects.bulk_create(entries)
    close_period(period_id=period.pk, now=window.ends_at)
    pay_period(
        period_id=period.pk
    )  # at once, for the demo; the task queued at the close finds it paid
