"""The player's purchases for the data export (apps.accounts.privacy). Erasure keeps them (the
economy's and the accountant's record): a purchase holds ids, the offer, prices and what it
granted, nothing that names the person; but the answer its Idempotency-Key stored for a checkout
holds the checkout link, which erasure clears there as on the payment (apps.payments.privacy)."""

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
            "bought",
            "granted",
            "refund_shortfall",
            "outcome",
            "note",
            "created_at",
            "completed_at",
            "refunded_at",
            offer="offer__name",
        )
    }


def erase(player: Player) -> None:
    """The checkout links in the stored answers (a replay answers the rest, with an empty
    link, as the payment row now has it)."""
    answers = Purchase.objects.filter(
        player=player, real_money=True, response_body__payment__has_key="checkout_url"
    ).only("pk", "response_body")
    cleared = []
    for purchase in answers:
        body: dict[str, Any] = purchase.response_body or {}
        if body["payment"]["checkout_url"] != "":
            body["payment"]["checkout_url"] = ""
            cleared.append(purchase)
    Purchase.objects.bulk_update(cleared, ["response_body"])
