"""The player's event reward claims for the data export (apps.accounts.privacy). Erasure keeps
them: a claim makes its reward grant once, and names nothing but the player's id."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.events.models import EventRewardClaim


def export(player: Player) -> dict[str, Any]:
    claims = EventRewardClaim.objects.filter(player=player).order_by("id")
    return {
        "claims": rows(claims, "claimed_at", event="reward__event__name", reward="reward__name")
    }
