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
        "ignored_stats",
        "xp_awarded",
        "season_xp_awarded",
        "level_before",
        "level_after",
        "counted",
        "recorded_at",
        match_id="match__match_id",
        mode="match__mode",
        started_at="match__started_at",
        ended_at="match__ended_at",
    )
