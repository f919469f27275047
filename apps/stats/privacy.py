"""The player's stats and XP for the data export (apps.accounts.privacy). Erasure keeps them:
numbers under the tombstone's id, nothing that names the person (docs/guide/privacy.md)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.stats.models import PlayerProgress, PlayerStat


def export(player: Player) -> dict[str, Any]:
    progress = PlayerProgress.objects.filter(player=player).values("xp", "updated_at").first()
    values = PlayerStat.objects.filter(player=player).order_by("definition__key")
    return {
        "progress": progress,
        "values": [
            {"key": key, "value": value, "updated_at": updated_at}
            for key, value, updated_at in values.values_list(
                "definition__key", "value", "updated_at"
            )
        ],
    }
