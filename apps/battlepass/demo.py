from datetime import datetime, timedelta

from django.db.models import Max, Min, Q
from django.utils import timezone

from apps.accounts.models import Game
from apps.battlepass.models import Season, Tier
from apps.battlepass.selectors import running_season

SEASON_NAME = "Season 1"
TIERS = 10


def seed(game: Game) -> None:
    """A season running now with ten tiers, so a newcomer sees progress at once. Made, or an
    ended demo season run again, in a window that overlaps none of the game's other seasons
    (seasons may not overlap, Season.clean): from a day ago for 60 days, shortened to start
    when the last ended season ended and to end when the next scheduled season starts. A demo
    season an operator moved to the future is left as it is."""
    if running_season(game_id=game.pk) is not None:
        return
    now = timezone.now()
    season = Season.objects.filter(game=game, name=SEASON_NAME).order_by("pk").first()
    if season is not None and season.starts_at > now:
        return
    if season is None or season.ends_at <= now:
        # Nothing runs now: every other season has ended by now or starts after it.
        starts_at, ends_at = _free_window(game, now, exclude=season)
        if season is None:
            season = Season.objects.create(
                game=game, name=SEASON_NAME, starts_at=starts_at, ends_at=ends_at
            )
        else:  # the demo season ran out since the last seed: run it again from now
            season.starts_at, season.ends_at = starts_at, ends_at
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


def _free_window(game: Game, now: datetime, *, exclude: Season | None) -> tuple[datetime, datetime]:
    """now - 1 day .. now + 60 days, within the gap around `now` between the game's other
    seasons: none runs at `now`, so each has ended by then or starts after it."""
    ended = Q(ends_at__lte=now)
    others = Season.objects.filter(game=game)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    bounds = others.aggregate(
        last_end=Max("ends_at", filter=ended), next_start=Min("starts_at", filter=~ended)
    )
    starts_at, ends_at = now - timedelta(days=1), now + timedelta(days=60)
    if bounds["last_end"] is not None:
        starts_at = max(starts_at, bounds["last_end"])
    if bounds["next_start"] is not None:
        ends_at = min(ends_at, bounds["next_start"])
    return starts_at, ends_at
