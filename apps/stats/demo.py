from apps.accounts.models import Game
from apps.stats.models import LevelCurve, StatDefinition

STATS = [
    ("kills", "Kills", StatDefinition.Combine.SUM),
    ("deaths", "Deaths", StatDefinition.Combine.SUM),
    ("best_score", "Best score", StatDefinition.Combine.MAX),
    ("fastest_lap_ms", "Fastest lap (ms)", StatDefinition.Combine.MIN),
    ("last_rank", "Rank in the last match", StatDefinition.Combine.LATEST),
]


def seed(game: Game) -> None:
    for key, name, combine in STATS:
        StatDefinition.objects.get_or_create(
            game=game, key=key, defaults={"name": name, "combine": combine}
        )
    LevelCurve.objects.get_or_create(
        game=game, defaults={"xp_per_level": 500, "growth_percent": 10, "max_level": 50}
    )
