from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from django.conf import settings

from apps.payments.errors import ProviderUnavailable, ReceiptAccountMismatch

# "submitted": the buyer completed the checkout but the money follows later (a delayed payment
# method), so the checkout no longer expires.
Action = Literal["paid", "submitted", "refund", "chargeback", "expired", "failed", "flag", "none"]


@dataclass(frozen=True)
class Notification:
    """A verified notification, before we look at what it means."""

    event_id: str
    event_type: str
    payload: dict[str, Any]
    game_id: int | None


@dataclass(frozen=True)
class PaidAmount:
    """What the processor says it charged: minor units and the ISO 4217 code (any case).
    `amount` is None when a processor that always reports it left it out: that cannot match."""

    amount: int | None
    currency: str

    @classmethod
    def reported(cls, *, amount: object, currency: object) -> PaidAmount:
        """From a processor's JSON: an amount that is not a JSON integer is no amount."""
        whole = amount if isinstance(amount, int) and not isinstance(amount, bool) else None
        return cls(whole, str(currency or ""))

    def matches(self, *, amount: int, currency: str) -> bool:
        return self.amount == amount and self.currency.upper() == currency.upper()

    def __str__(self) -> str:
        return f"{self.amount} {self.currency.upper()}"


@dataclass(frozen=True)
class Outcome:
    """What a notification means for one of our payments, found by any of the ids given."""

    action: Action
    external_id: str = ""
    payment_reference: str = ""
    purchase_id: int | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # "paid" only: what was charged, reconciled with the purchase's price before any grant;
    # None when the processor does not report it.
    paid: PaidAmount | None = None


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One outbound call with the payment timeout; network trouble and 5xx become a 503."""
    try:
        response = requests.request(method, url, timeout=settings.PAYMENT_HTTP_TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"{url.split('/')[2]} did not answer: {type(exc).__name__}.")
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnavailable(f"{url.split('/')[2]} answered {response.status_code}.")
    return response


@dataclass(frozen=True)
class VerifiedReceipt:
    """A store purchase the store itself confirmed."""

    transaction_id: str
    product_id: str
    payment_reference: str = ""
    environment: str = ""
    details: dict[str, Any] = field(default_factory=dict)


# The namespace of store account tokens: uuid5(NAMESPACE_URL, "https://gamingpanel/store-account").
ACCOUNT_TOKEN_NAMESPACE = uuid.UUID("30e9ef35-f03c-5ad2-a865-50d1cf91596e")


def player_account_token(player_id: int) -> str:
    """What a game kit passes to the store as the buyer: Apple's `appAccountToken` and Google's
    `obfuscatedExternalAccountId`. A name-based UUID (RFC 9562 version 5: SHA-1) of the decimal
    player id that login returned, so a kit derives it without asking the server, and the
    store never sees the player id itself."""
    return str(uuid.uuid5(ACCOUNT_TOKEN_NAMESPACE, str(player_id)))


def check_account_token(given: object, *, player_id: int | None) -> None:
    """A store purchase that names its buyer must name this player; one that names nobody
    (an older client, a purchase made outside the game) is not refused for that."""
    if player_id is None or given in (None, ""):
        return
    if str(given).lower() != player_account_token(player_id):
        raise ReceiptAccountMismatch("The store purchase was made for another player.")
