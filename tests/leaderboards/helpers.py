from __future__ import annotations

from apps.accounts.models import Player
from apps.leaderboards.models import Board
from apps.leaderboards.services.submit import Submitted, submit_score


def scores(board: Board, pairs: list[tuple[Player, int]], *, prefix: str = "s") -> list[Submitted]:
    """Submit in the order given (earlier reaches a tie first)."""
    return [
        submit_score(board=board, player_id=player.pk, score=value, submission_id=f"{prefix}{n}")
        for n, (player, value) in enumerate(pairs)
    ]
