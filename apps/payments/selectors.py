from __future__ import annotations

from apps.payments.models import Payment, ProviderAccount


def sandbox_payment(*, payment_pk: int) -> Payment | None:
    return Payment.objects.select_related("game", "purchase__offer").filter(pk=payment_pk).first()


def enabled_account(*, game_id: int, provider: str) -> ProviderAccount | None:
    return (
        ProviderAccount.objects.select_related("game")
        .filter(game_id=game_id, provider=provider, enabled=True)
        .first()
    )


def payment_by_external_id(*, game_id: int, provider: str, external_id: str) -> Payment | None:
    return (
        Payment.objects.select_related("purchase")
        .filter(game_id=game_id, provider=provider, external_id=external_id)
        .first()
    )
