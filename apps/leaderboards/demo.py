"""The demo game's weekly board, with seeded entries in its open period."""

from __future__ import annotations

from datetime import timedelta

from apps.accounts.models import Game, Player
from apps.leaderboards.models import Board, BracketReward
from apps.leaderboards.services.periods import open_period
from apps.leaderboards.services.submit import submit_score

SLUG = "weekly-score"
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
    period = open_period(board=board)
    for n, name in enumerate(DEMO_PLAYERS):
        player, _ = Player.objects.get_or_create(
            game=game,
            display_name=f"demo-{name.lower()}",
            defaults={"created_at": period.starts_at + timedelta(minutes=n)},
        )
        submit_score(
            board=board,
            player_id=player.pk,
            score=1000 - 70 * n,
            submission_id=f"demo-seed:{period.number}:{name.lower()}",
        )
