"""Reads of seasons and of a player's pass."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim
from gamingpanel.sql import CompiledQuery, aware


def running_season(*, game_id: int, at: datetime | None = None) -> Season | None:
    at = at or timezone.now()
    return (
        Season.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at)
        .order_by("-starts_at")
        .first()
    )


CLAIMED_KEY = {TierClaim.Track.FREE: "free_claimed", TierClaim.Track.PREMIUM: "premium_claimed"}


# One compiled query (gamingpanel.sql): the running seasons, latest first, with their tiers, the
# player's pass and their claims (outer joins), one row per tier and claimed track.
PROGRESS = CompiledQuery.compile(
    """
    SELECT season.id, season.name, season.starts_at, season.ends_at, own_pass.xp,
           own_pass.premium, tier.level, tier.xp_required, tier.free_reward, tier.premium_reward,
           own_claim.track
      FROM {season} season
      LEFT JOIN {season_pass} own_pass
        ON own_pass.season_id = season.id AND own_pass.player_id = %s
      LEFT JOIN {tier} tier ON tier.season_id = season.id
      LEFT JOIN {claim} own_claim ON own_claim.tier_id = tier.id AND own_claim.player_id = %s
     WHERE season.game_id = %s AND season.starts_at <= %s AND season.ends_at > %s
     ORDER BY season.starts_at DESC, season.id, tier.level
    """,
    season=Season,
    season_pass=SeasonPass,
    tier=Tier,
    claim=TierClaim,
)


def get_progress(*, player_id: int, game_id: int) -> dict[str, Any]:
    """One query: the player's pass in the running season, tier by tier, in the order of the
    body the player API answers."""
    at = timezone.now()
    rows = PROGRESS.rows([player_id, player_id, game_id, at, at])
    season: dict[str, Any] | None = None
    tiers: dict[int, dict[str, Any]] = {}
    for season_id, name, starts_at, ends_at, xp, premium, level, *tier, track in rows:
        if season is None:
            season = {
                "id": season_id,
                "name": name,
                "starts_at": aware(starts_at),
                "ends_at": aware(ends_at),
            }
            season_xp, season_premium = xp or 0, bool(premium)
        elif season_id != season["id"]:
            break  # an overlapping season that started earlier: the latest one runs
        if level is None:
            continue  # a season without tiers
        if level not in tiers:
            xp_required, free_reward, premium_reward = tier
            tiers[level] = {
                "tier": level,
                "level": level,  # deprecated: the same as "tier", for v1 clients
                "xp_required": xp_required,
                # JSONFields without a decoder: both backends hand back their text.
                "free_reward": json.loads(free_reward),
                "premium_reward": json.loads(premium_reward),
                "free_claimed": False,
                "premium_claimed": False,
            }
        if track is not None:
            tiers[level][CLAIMED_KEY[track]] = True
    if season is None:
        return {"season": None, "xp": 0, "tier": 0, "premium": False, "tiers": []}
    return {
        "season": season,
        "xp": season_xp,
        "tier": max(
            (t["level"] for t in tiers.values() if t["xp_required"] <= season_xp), default=0
        ),
        "premium": season_premium,
        "tiers": list(tiers.values()),
    }
