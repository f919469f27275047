"""The player's raw analytics events: in the data export, and deleted on erasure
(apps.accounts.privacy). The daily aggregates stay: counts with no player in them. (PlayerDay,
the retention input, keeps the player's id and days active, pseudonymous under the tombstone.)"""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.analytics.models import RawEvent


def export(player: Player) -> dict[str, Any]:
    events = RawEvent.objects.filter(game_id=player.game_id, player=player).order_by("id")
    return {"events": list(events.values("name", "source", "occurred_at", "properties"))}


def erase(player: Player) -> None:
    RawEvent.objects.filter(game_id=player.game_id, player=player).delete()
