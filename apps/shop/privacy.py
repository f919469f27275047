"""The player's purchases for the data export (apps.accounts.privacy). Erasure keeps them (the
economy's and the accountant's record): a purchase holds ids, the offer, prices and what it
granted, nothing that names the person."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.shop.models import Purchase


def export(player: Player) -> dict[str, Any]:
    purchases = Purchase.objects.filter(player=player).order_by("id")
    return {
        "purchases": rows(
            purchases,
            "id",
            "quantity",
            "status",
            "source",
            "real_money",
            "price_currency",
            "price_amount",
            "provider",
            "granted",
            "created_at",
            "completed_at",
            "refunded_at",
            offer="offer__name",
        )
    }
