from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Player
from apps.battlepass.models import Season
from apps.stats.models import LevelCurve, StatDefinition
from tests.accounts.conftest import dev_platform, login, tokens  # noqa: F401  (fixtures)

URL = "/api/v1/multiplayer/match-result"


@pytest.fixture
def stat_defs(game):
    combine = StatDefinition.Combine
    for key, how in [
        ("kills", combine.SUM),
        ("deaths", combine.SUM),
        ("best_score", combine.MAX),
        ("fastest_lap", combine.MIN),
        ("last_rank", combine.LATEST),
    ]:
        StatDefinition.objects.create(game=game, key=key, name=key, combine=how)


@pytest.fixture
def curve(game):
    return LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=50)


@pytest.fixture
def season(game):
    now = timezone.now()
    return Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=9)
    )


@pytest.fixture
def make_players(game):
    def make(count: int, *, of=None) -> list[Player]:
        return Player.objects.bulk_create(
            [Player(game=of or game, display_name=f"p{n}") for n in range(count)]
        )

    return make


def match_body(match_id: str, players: list, *, mode: str = "duel", stats=None) -> dict:
    outcomes = ["win", "loss", "draw"]
    return {
        "match_id": match_id,
        "mode": mode,
        "started_at": "2025-01-01T10:00:00Z",
        "ended_at": "2025-01-01T10:20:00Z",
        "players": [
            {
                "player_id": p.pk,
                "outcome": outcomes[n % 3],
                "score": 10 * n,
                "stats": stats if stats is not None else {"kills": n + 1, "best_score": 10 * n},
            }
            for n, p in enumerate(players)
        ],
    }
