"""The payments of the player's purchases: in the data export without provider secrets, purchase
tokens or checkout links (apps.accounts.privacy). Erasure keeps the payments (accounting), but
clears their checkout links and the payloads of the provider notifications already processed: a
processor's notification can carry the buyer's name, e-mail or address (a Stripe checkout's
customer details). A notification still to be processed then, or sent later (a refund, a
chargeback), is stored without its payload once processed (apps.payments.services.processing)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.payments.models import Payment, ProviderEvent

FINISHED_EVENTS = (ProviderEvent.Status.PROCESSED, ProviderEvent.Status.IGNORED)


def _payments(player: Player) -> Any:
    return Payment.objects.filter(game_id=player.game_id, purchase__player=player)


def export(player: Player) -> list[dict[str, Any]]:
    return rows(
        _payments(player).order_by("id"),
        "provider",
        "status",
        "amount",
        "currency",
        "created_at",
        purchase_id="purchase_id",
    )


def erase(player: Player) -> None:
    payments = _payments(player)
    payments.exclude(checkout_url="").update(checkout_url="")
    ProviderEvent.objects.filter(payment__in=payments, status__in=FINISHED_EVENTS).exclude(
        payload={}
    ).update(payload={})
