from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest

from apps.accounts.models import Game, Player
from apps.leaderboards import index
from apps.leaderboards.models import Board, Period
from apps.leaderboards.services.periods import open_period


@pytest.fixture
def make_board(game: Game) -> Callable[..., Board]:
    def make(slug: str = "high", **fields: object) -> Board:
        return Board.objects.create(
            game=cast(Game, fields.pop("game", game)), slug=slug, name=slug.title(), **fields
        )

    return make


@pytest.fixture
def board(make_board: Callable[..., Board]) -> Board:
    return make_board()


@pytest.fixture
def make_players(game: Game) -> Callable[..., list[Player]]:
    def make(count: int, *, of: Game | None = None, prefix: str = "p") -> list[Player]:
        return [
            Player.objects.create(game=of or game, display_name=f"{prefix}{n}")
            for n in range(count)
        ]

    return make


def current(board: Board) -> Period:
    return open_period(board=board)


@pytest.fixture(autouse=True)
def _fresh_index(db: None, settings: object, worker_id: str) -> None:
    """Each test's periods start at id 1 again (a fresh database): the index's keys get a prefix
    of this test worker's own (parallel workers share the Redis database), emptied first."""
    settings.CACHE_KEY_PREFIX = f"{settings.CACHE_KEY_PREFIX}-{worker_id}"  # type: ignore[attr-defined]
    client = index._client()
    if client is not None:
        keys = list(client.scan_iter(match=f"{index.Keys.of(0).members.rsplit(':', 2)[0]}:*"))
        if keys:
            client.delete(*keys)
