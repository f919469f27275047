from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import Game
from apps.battlepass.models import Season, Tier
from apps.battlepass.selectors import running_season

SEASON_NAME = "Season 1"
TIERS = 10


def seed(game: Game) -> None:
    """A season running now with ten tiers, so a newcomer sees progress at once."""
    if running_season(game_id=game.pk) is not None:
        return
    now = timezone.now()
    season, created = Season.objects.get_or_create(
        game=game,
        name=SEASON_NAME,
        defaults={"starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=60)},
    )
    if not created:  # the demo season ran out since the last seed: run it again from now
        season.starts_at, season.ends_at = now - timedelta(days=1), now + timedelta(days=60)
        season.save(update_fields=["starts_at", "ends_at"])
    for level in range(1, TIERS + 1):
        premium = [{"currency": "gems", "quantity": 10 * level}]
        if level == TIERS:
            premium.append({"sku": "sword", "quantity": 1})
        Tier.objects.get_or_create(
            season=season,
            level=level,
            defaults={
                "xp_required": (level - 1) * 300,
                "free_reward": [{"currency": "gold", "quantity": 50 * level}],
                "premium_reward": premium,
            },
        )
