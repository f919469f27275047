"""The player's match results for the data export (apps.accounts.privacy). Erasure keeps them:
the matches happened, and other players' results and event progress are measured on them."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.multiplayer.models import MatchResult


def export(player: Player) -> list[dict[str, Any]]:
    results = MatchResult.objects.filter(player=player).order_by("recorded_at", "id")
    return rows(
        results,
        "outcome",
        "score",
        "stats",
        "xp_awarded",
        "recorded_at",
        match_id="match__match_id",
        mode="match__mode",
    )
