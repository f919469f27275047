"""The payments of the player's purchases: in the data export with the provider's id of each,
and without provider secrets, purchase tokens (masked where one is the id), checkout links or
the processors' notifications (the processor's data, which may carry its credentials)
(apps.accounts.privacy). Erasure keeps the payments (accounting), but
clears their checkout links and the payloads of the provider notifications already processed: a
processor's notification can carry the buyer's name, e-mail or address (a Stripe checkout's
customer details). A notification still to be processed then, or sent later (a refund, a
chargeback), is stored without its payload once processed (apps.payments.services.processing)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.accounts.models import Player
from apps.audit.privacy import targets
from apps.payments.models import Payment, Provider, ProviderEvent
from apps.payments.providers.google_play import token_transaction_id
from gamingpanel.crypto import mask

FINISHED_EVENTS = (ProviderEvent.Status.PROCESSED, ProviderEvent.Status.IGNORED)


def _payments(player: Player) -> Any:
    return Payment.objects.filter(game_id=player.game_id, purchase__player=player)


def export(player: Player) -> list[dict[str, Any]]:
    payments = _payments(player).order_by("id")
    return [
        {
            "purchase_id": purchase_id,
            "provider": provider,
            "external_id": _shown_external_id(provider, external_id, reference),
            "status": status,
            "amount": amount,
            "currency": currency,
            "created_at": created_at,
            "updated_at": updated_at,
        }
        for (
            purchase_id,
            provider,
            external_id,
            reference,
            status,
            amount,
            currency,
            created_at,
            updated_at,
        ) in payments.values_list(
            "purchase_id",
            "provider",
            "external_id",
            "payment_reference",
            "status",
            "amount",
            "currency",
            "created_at",
            "updated_at",
        )
    ]


def _shown_external_id(provider: str, external_id: str, reference: str) -> str:
    """The provider's id of the payment (a checkout session, a store transaction or order id),
    except where it is the Google Play purchase token or made from it (a purchase without an
    orderId is known by it): the token is a credential, masked as the admin shows it."""
    token = reference if provider == Provider.GOOGLE_PLAY else ""
    if token and external_id in (token, token_transaction_id(token)):
        return mask(external_id)
    return external_id


def audit_entries(player: Player) -> Q:
    """The audit entries about the player's payments (an operator's sandbox refund)."""
    return targets(Payment, _payments(player))


def erase(player: Player) -> None:
    payments = _payments(player)
    payments.exclude(checkout_url="").update(checkout_url="")
    ProviderEvent.objects.filter(payment__in=payments, status__in=FINISHED_EVENTS).exclude(
        payload={}
    ).update(payload={})
