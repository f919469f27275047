from __future__ import annotations

import re
from collections.abc import Sequence

from django.db.models import Count, Q

from apps.payments.models import UNMATCHED_REVERSAL, Payment, ProviderAccount, ProviderEvent

# What a public token can be (secrets.token_urlsafe: URL-safe base64); anything else names no
# payment, without a query (U+0000 in a path would fail PostgreSQL's, a 500).
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def payment_by_token(*, token: str) -> Payment | None:
    """The payment a buyer's page names by its public token (never by its sequential id)."""
    if not TOKEN.fullmatch(token):
        return None
    return (
        Payment.objects.select_related("game", "purchase__offer").filter(public_token=token).first()
    )


def payment_of_purchase(*, game_id: int, purchase_id: int) -> Payment | None:
    """The payment of a purchase of this game (None for another game's purchase)."""
    return (
        Payment.objects.select_related("game", "purchase")
        .filter(game_id=game_id, purchase_id=purchase_id)
        .first()
    )


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


def reversed_before_known(*, provider: str, references: list[str]) -> bool:
    """Whether the provider reported a refund or chargeback of one of these transactions before
    any payment of ours had it (store transaction ids are global: any game's notification). A
    partial refund kept unmatched is not one: the receipt is granted, and the refund flags it."""
    references = [reference for reference in references if reference]
    return bool(references) and (
        ProviderEvent.objects.filter(
            UNMATCHED_REVERSAL, provider=provider, reference__in=references
        ).exists()
    )


def payment_counts(*, accounts: Sequence[ProviderAccount]) -> dict[int, int]:
    """How many payments each account's game has through its provider, by account id (one
    query; an account with none is left out)."""
    if not accounts:
        return {}
    through = Q()
    for account in accounts:
        through |= Q(game_id=account.game_id, provider=account.provider)
    counts = {
        (game_id, provider): count
        for game_id, provider, count in Payment.objects.filter(through)
        .order_by()
        .values_list("game_id", "provider")
        .annotate(count=Count("pk"))
    }
    return {
        account.pk: counts[key]
        for account in accounts
        if (key := (account.game_id, account.provider)) in counts
    }
