"""Reads of seasons and of a player's pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.accounts.models import Player
from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim


def running_season(*, game_id: int, at: datetime | None = None) -> Season | None:
    at = at or timezone.now()
    return (
        Season.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at)
        .order_by("-starts_at")
        .first()
    )


def tier_reached(*, tiers: list[Tier], xp: int) -> int:
    """The highest level whose XP the player has; 0 before the first tier."""
    return max((t.level for t in tiers if t.xp_required <= xp), default=0)


def get_progress(*, player: Player) -> dict[str, Any]:
    """Four queries: season, tiers, the player's pass, their claims."""
    season = running_season(game_id=player.game_id)
    if season is None:
        return {"season": None, "xp": 0, "tier": 0, "premium": False, "tiers": []}
    tiers = list(season.tiers.order_by("level"))
    season_pass = SeasonPass.objects.filter(player=player, season=season).first()
    xp, premium = (season_pass.xp, season_pass.premium) if season_pass else (0, False)
    claimed = set(
        TierClaim.objects.filter(player=player, tier__season=season).values_list("tier_id", "track")
    )
    return {
        "season": season,
        "xp": xp,
        "tier": tier_reached(tiers=tiers, xp=xp),
        "premium": premium,
        "tiers": [
            {
                "level": t.level,
                "xp_required": t.xp_required,
                "free_reward": t.free_reward,
                "premium_reward": t.premium_reward,
                "free_claimed": (t.pk, TierClaim.Track.FREE) in claimed,
                "premium_claimed": (t.pk, TierClaim.Track.PREMIUM) in claimed,
            }
            for t in tiers
        ],
    }
