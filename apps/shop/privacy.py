"""The player's purchases for the data export (apps.accounts.privacy). Erasure keeps them (the
economy's and the accountant's record): a purchase holds ids, the offer, prices and what it
granted, nothing that names the person; but the answer its Idempotency-Key stored for a checkout
holds the checkout link, which erasure clears there as on the payment (apps.payments.privacy).

A real-money purchase opens its checkout after its own transaction commits (the processor is
called outside it), then stores the link on the payment and then the key's answer: an erasure
falling between those steps would find no link to clear, and the request under way would store
one afterwards. So erasure settles such a purchase first: a checkout not opened yet is closed
(nobody holds it; the request under way is refused, as a purchase racing the erasure is), and
an opened one whose answer is not stored yet gets its answer stored now, without the link (the
first answer wins: the request's own, later, stores nothing)."""

from __future__ import annotations

from typing import Any

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.payments.models import Payment
from apps.payments.services import checkout, closing
from apps.shop.models import Purchase
from apps.shop.services.payment_outcomes import ShopPurchaseOutcomes
from apps.shop.services.purchase import store_pending_answer


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


ERASED_NOTE = "player erased before the checkout opened"


def erase(player: Player) -> None:
    """The checkout links in the stored answers (a replay answers the rest, with an empty
    link, as the payment row now has it)."""
    _settle_checkouts_under_way(player)
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


def _settle_checkouts_under_way(player: Player) -> None:
    under_way = Purchase.objects.filter(
        player=player,
        real_money=True,
        source=Purchase.Source.SHOP,
        status=Purchase.Status.PENDING,
        response_body__isnull=True,
    ).order_by("pk")
    for purchase in under_way:
        # Waits for the payment's checkout being stored right now, then fails it only if none
        # was: the two cannot both happen.
        if checkout.mark_checkout_failed(
            purchase_id=purchase.pk, error=PlayerErased("The buyer's account was erased.")
        ):
            ShopPurchaseOutcomes().closed(
                purchase_id=purchase.pk,
                outcome=Payment.Status.FAILED,
                note=ERASED_NOTE,
                reason=closing.NOT_OPENED,
            )
        elif (opened := checkout.checkout_opened(purchase_id=purchase.pk)) is not None:
            opened.checkout_url = ""
            store_pending_answer(purchase, opened)
