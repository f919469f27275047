import pytest

from apps.stats.models import StatDefinition


@pytest.fixture
def stat_defs(game):
    """kills (sum), best_score (max), fastest_lap (min), last_rank (latest)."""
    combine = StatDefinition.Combine
    return {
        key: StatDefinition.objects.create(game=game, key=key, name=key, combine=how)
        for key, how in [
            ("kills", combine.SUM),
            ("best_score", combine.MAX),
            ("fastest_lap", combine.MIN),
            ("last_rank", combine.LATEST),
        ]
    }
