"""The player's season passes and tier claims for the data export (apps.accounts.privacy).
Erasure keeps them: a pass may have been paid for, and claims make a reward grant once."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.battlepass.models import SeasonPass, TierClaim


def export(player: Player) -> dict[str, Any]:
    passes = SeasonPass.objects.filter(player=player).order_by("season_id")
    claims = TierClaim.objects.filter(player=player).order_by("id")
    return {
        "passes": rows(passes, "xp", "premium", "premium_granted_at", season="season__name"),
        "claims": rows(
            claims, "track", "claimed_at", season="tier__season__name", level="tier__level"
        ),
    }
