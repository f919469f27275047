from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from django.conf import settings

from apps.payments.errors import InvalidNotification, ProviderUnavailable, ReceiptAccountMismatch
from gamingpanel.parsers import loads as loads_json
from gamingpanel.storable import MAX_DEPTH, UNSTORABLE, has_unstorable_text, too_deep

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
    # Why nothing is to be done with it, decided as it is verified (an App Store Sandbox
    # notification for a game that accepts no Sandbox transaction): stored `ignored` with this
    # as its outcome, never processed. Empty: processed.
    ignored: str = ""


# ProviderEvent.event_id holds this many characters (models.py): Stripe documents ids up to 255.
MAX_EVENT_ID_LENGTH = 255


def check_storable(event_id: str, payload: Any, *, id_name: str) -> None:
    """A notification the panel can store as it came (`ProviderEvent`), else 400
    `invalid_notification` before anything is stored: an id that is empty, longer than the
    column holds or holds U+0000 or a lone surrogate, or a payload that PostgreSQL's jsonb
    cannot hold (either character in a key or a string) or that nests deeper than MAX_DEPTH
    (encoding it again for the database could run out of recursion). Each would be a 500 at
    the insert. `id_name` is the provider's name of the id (`messageId`, `id`...)."""
    if not event_id or len(event_id) > MAX_EVENT_ID_LENGTH or UNSTORABLE.search(event_id):
        raise InvalidNotification(
            f"The notification's {id_name} is not an id of 1 to {MAX_EVENT_ID_LENGTH} "
            "characters without U+0000 or a lone surrogate."
        )
    if too_deep(payload):
        raise InvalidNotification(
            f"The notification nests arrays and objects more than {MAX_DEPTH} levels deep."
        )
    if has_unstorable_text(payload):
        raise InvalidNotification("The notification holds U+0000 or a lone surrogate.")


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


# Outcome.details of a refund, or of a refund's reversal ("flag"), that says when the provider
# signed it (an int, in its clock: Apple's signedDate, milliseconds): the latest applied wins.
REFUND_NEWS_SIGNED = "refund_news_signed"
# Outcome.details of a "flag" that is a refund's reversal (Apple's REFUND_REVERSED).
REFUND_UNDONE = "refund_undone"


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One outbound call with the payment timeout; network trouble and 5xx become a 503."""
    try:
        response = requests.request(method, url, timeout=settings.PAYMENT_HTTP_TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"{url.split('/')[2]} did not answer: {type(exc).__name__}.")
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnavailable(f"{url.split('/')[2]} answered {response.status_code}.")
    return response


def json_object(body: bytes | str, *, who: str) -> dict[str, Any]:
    """A provider's 200 answer read as the JSON object its API documents; anything else (an
    HTML error page from a proxy, a truncated body, `null`, a list) is the provider failing,
    a 503 like its 5xx, not a 500 of ours."""
    try:
        value = loads_json(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ProviderUnavailable(f"{who} answered 200 with something that is not a JSON object.")
    return value


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
