"""Reads of seasons and of a player's pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import FilteredRelation, Q
from django.utils import timezone

from apps.battlepass.models import Season, TierClaim


def running_season(*, game_id: int, at: datetime | None = None) -> Season | None:
    at = at or timezone.now()
    return (
        Season.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at)
        .order_by("-starts_at")
        .first()
    )


CLAIMED_KEY = {TierClaim.Track.FREE: "free_claimed", TierClaim.Track.PREMIUM: "premium_claimed"}


def get_progress(*, player_id: int, game_id: int) -> dict[str, Any]:
    """One query: the running season with its tiers, the player's pass and their claims (outer
    joins), one row per tier and claimed track."""
    at = timezone.now()
    rows = (
        Season.objects.filter(game_id=game_id, starts_at__lte=at, ends_at__gt=at)
        .annotate(
            own_pass=FilteredRelation("passes", condition=Q(passes__player_id=player_id)),
            own_claim=FilteredRelation(
                "tiers__claims", condition=Q(tiers__claims__player_id=player_id)
            ),
        )
        .order_by("-starts_at", "id", "tiers__level")
        .values_list(
            "id",
            "name",
            "starts_at",
            "ends_at",
            "own_pass__xp",
            "own_pass__premium",
            "tiers__level",
            "tiers__xp_required",
            "tiers__free_reward",
            "tiers__premium_reward",
            "own_claim__track",
        )
    )
    season: dict[str, Any] | None = None
    tiers: dict[int, dict[str, Any]] = {}
    for season_id, name, starts_at, ends_at, xp, premium, level, *tier, track in rows:
        if season is None:
            season = {"id": season_id, "name": name, "starts_at": starts_at, "ends_at": ends_at}
            season_xp, season_premium = xp or 0, bool(premium)
        elif season_id != season["id"]:
            break  # an overlapping season that started earlier: the latest one runs
        if level is None:
            continue  # a season without tiers
        if level not in tiers:
            xp_required, free_reward, premium_reward = tier
            tiers[level] = {
                "level": level,
                "xp_required": xp_required,
                "free_reward": free_reward,
                "premium_reward": premium_reward,
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
