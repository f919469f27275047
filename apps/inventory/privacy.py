"""The player's wallets, items and ledger for the data export (apps.accounts.privacy). Erasure
keeps them: the ledger is the economy's record (DESIGN.md), pseudonymous under the tombstone."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.inventory.models import LedgerEntry, PlayerItem, Wallet


def export(player: Player) -> dict[str, Any]:
    wallets = Wallet.objects.filter(player=player).order_by("currency__code")
    items = PlayerItem.objects.filter(player=player).order_by("item__sku")
    ledger = LedgerEntry.objects.filter(player=player).order_by("id")
    return {
        "wallets": [
            {"currency": code, "balance": balance}
            for code, balance in wallets.values_list("currency__code", "balance")
        ],
        "items": [
            {"sku": sku, "quantity": quantity}
            for sku, quantity in items.values_list("item__sku", "quantity")
        ],
        "ledger": rows(
            ledger,
            "id",
            "delta",
            "balance_after",
            "reason",
            "reference",
            "created_at",
            currency="currency__code",
            sku="item__sku",
        ),
    }
