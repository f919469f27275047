"""Stripe: Checkout Sessions and signed webhook events through Stripe's own SDK (`stripe`), its
HTTP calls made with `requests` (stripe.RequestsClient) to STRIPE_API_BASE_URL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe as stripe_sdk
from django.conf import settings

from apps.payments.errors import (
    CheckoutInProgress,
    InvalidNotification,
    InvalidSignature,
    ProviderNotConfigured,
    ProviderUnavailable,
)
from apps.payments.models import Payment, ProviderAccount
from apps.payments.providers.base import Notification, Outcome, PaidAmount
from gamingpanel.currencies import minor_units, to_major
from gamingpanel.parsers import loads as loads_json


def idempotency_key(payment: Payment) -> str:
    """Stable for a payment, unique across deployments: a staging and a dev panel sharing one
    Stripe test account both have a payment 5, and Stripe would answer the second with the
    first's session (or refuse a different body under the same key)."""
    return f"gp-payment-{payment.pk}-{payment.public_token[:22]}"


# Where Stripe counts a currency otherwise than ISO 4217's minor units (Stripe's currency
# guide, "special cases"): ISK stays two-decimal at Stripe (100 is 1 krona) though ISO gives it
# none, and MGA is zero-decimal at Stripe though ISO gives it two. Its three-decimal currencies
# take only amounts ending in 0.
STRIPE_DECIMALS = {"ISK": 2, "MGA": 0}
STRIPE_STEPS = dict.fromkeys(("BHD", "JOD", "KWD", "OMR", "TND"), 10)


def stripe_amount(amount: int, currency: str) -> int:
    """An amount in ISO minor units as Stripe's API counts it; refused (an operator must change
    the price) when Stripe cannot charge it exactly."""
    code = currency.upper()
    shift = STRIPE_DECIMALS.get(code, minor_units(code)) - minor_units(code)
    scaled = Decimal(amount).scaleb(shift)
    if scaled != scaled.to_integral_value() or int(scaled) % STRIPE_STEPS.get(code, 1):
        raise ProviderNotConfigured(
            f"Stripe cannot charge {to_major(amount, code)} {code} exactly; "
            "change the offer's price."
        )
    return int(scaled)


def iso_amount(amount: object, currency: object) -> object:
    """An amount Stripe reported, in ISO minor units (anything but a whole number as given)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        return amount
    code = currency.upper()
    scaled = Decimal(amount).scaleb(
        minor_units(code) - STRIPE_DECIMALS.get(code, minor_units(code))
    )
    return int(scaled) if scaled == scaled.to_integral_value() else None


# Stripe ends a Checkout Session this long after it opens it, unless asked for sooner (at least
# 30 minutes after it opens it).
SESSION_LIFETIME = timedelta(hours=24)

# What the payment's columns hold: a checkout session's id and url, a payment intent's id.
MAX_SESSION_ID_LENGTH = Payment._meta.get_field("external_id").max_length or 0
MAX_CHECKOUT_URL_LENGTH = Payment._meta.get_field("checkout_url").max_length or 0
MAX_REFERENCE_LENGTH = Payment._meta.get_field("payment_reference").max_length or 0


def create_checkout_session(
    *,
    account: ProviderAccount,
    payment: Payment,
    name: str,
    quantity: int,
    unit_amount: int,
    ends_at: datetime,
) -> dict[str, Any]:
    """A Checkout Session that ends unpaid at `ends_at`, or 24 h after Stripe opens it (its own
    default) when `ends_at` is 24 h after the payment began: an `expires_at` asking for that
    would be refused as beyond Stripe's 24 h by a server clock a second ahead of Stripe's."""
    secret_key = account.secrets.get("secret_key")
    if not secret_key:
        raise ProviderNotConfigured("This game's Stripe account has no secret_key.")
    purchase_id = str(payment.purchase_id)
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    done = account.config.get("success_url") or f"{base}/payments/return/{payment.public_token}"
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": purchase_id,
        "success_url": done,
        "cancel_url": account.config.get("cancel_url") or done,
        "line_items": [
            {
                "quantity": quantity,
                "price_data": {
                    "currency": payment.currency.lower(),
                    "unit_amount": stripe_amount(unit_amount, payment.currency),
                    "product_data": {"name": name},
                },
            }
        ],
        "metadata": {
            "purchase_id": purchase_id,
            "payment_id": str(payment.pk),
            "game_id": str(payment.game_id),
        },
        "payment_intent_data": {
            "metadata": {"purchase_id": purchase_id, "game_id": str(payment.game_id)}
        },
    }
    expires_at = int(ends_at.timestamp())  # whole seconds, as Stripe counts
    if expires_at < int((payment.created_at + SESSION_LIFETIME).timestamp()):
        params["expires_at"] = expires_at
    try:
        session = _client(secret_key).v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            # Stripe's own idempotency: retrying the same payment never opens a second session.
            options={"idempotency_key": idempotency_key(payment)},
        )
    except stripe_sdk.StripeError as exc:
        if exc.http_status == 409:
            # Stripe is still answering another call with this key (a client's retry of the
            # same purchase while its first request waits): no refusal, the first call decides.
            raise CheckoutInProgress(
                "This purchase's checkout is being opened; send the same request again in a moment."
            ) from None
        raise ProviderUnavailable(f"Stripe refused the checkout session: {_error_message(exc)}")
    # The SDK refuses a body that is not JSON, but hands back JSON of any other shape as it is
    # (`null`, a list): without a session's id and url nothing can be stored (a 500).
    opened = session.to_dict() if isinstance(session, stripe_sdk.StripeObject) else {}
    if not all(isinstance(opened.get(key), str) and opened[key] for key in ("id", "url")):
        raise ProviderUnavailable(
            "Stripe answered 200 with something that is not a checkout session."
        )
    # Stored in the payment's columns (external_id, checkout_url): longer, the update that
    # stores them fails (a 500) after Stripe opened the session.
    if len(opened["id"]) > MAX_SESSION_ID_LENGTH or len(opened["url"]) > MAX_CHECKOUT_URL_LENGTH:
        raise ProviderUnavailable(
            "Stripe answered a checkout session whose id or url is longer than the panel stores."
        )
    return opened


def session_end(session: Mapping[str, Any]) -> datetime | None:
    """When a Checkout Session ends unpaid, as Stripe reports it (`expires_at`, Unix seconds)."""
    ends = session.get("expires_at")
    if not isinstance(ends, int) or isinstance(ends, bool):
        return None
    return datetime.fromtimestamp(ends, tz=UTC)


def _client(secret_key: str) -> stripe_sdk.StripeClient:
    """One client per call (the key is the game's); the SDK's own retries are off: the
    purchase's idempotency key makes the caller's retry safe."""
    return stripe_sdk.StripeClient(
        secret_key,
        base_addresses={"api": settings.STRIPE_API_BASE_URL.rstrip("/")},
        http_client=stripe_sdk.RequestsClient(timeout=settings.PAYMENT_HTTP_TIMEOUT),
        max_network_retries=0,
    )


def parse_notification(*, body: bytes, headers: Mapping[str, str]) -> Notification:
    """Verify `Stripe-Signature` with the SDK (`stripe.Webhook.construct_event`) against every
    Stripe account's webhook secret (the endpoint is shared by all games); the one that matches
    names the game. Disabled accounts verify too: disabling one stops new checkouts, not the
    refunds and disputes of what it already sold."""
    header = headers.get("Stripe-Signature", "")
    if not header:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    if not header.isascii():
        # Stripe signs in ASCII (a timestamp and hex digests); the SDK's constant-time compare
        # raises TypeError on text beyond it (a header's bytes arrive as latin-1 text).
        raise InvalidSignature("The Stripe-Signature header is malformed.")
    # One Stripe account (one endpoint secret) may serve several games.
    games_by_secret: dict[str, list[int]] = {}
    for account in ProviderAccount.objects.filter(provider="stripe").order_by("-enabled", "id"):
        if secret := account.secrets.get("webhook_secret"):
            games_by_secret.setdefault(secret, []).append(account.game_id)
    secret = next(
        (s for s in games_by_secret if _signed_with(body, header, s)),
        None,
    )
    if secret is None:
        raise InvalidSignature("No webhook secret's signature matches, or it is too old.")
    event = _json_object(body)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise InvalidNotification("A Stripe event has an id and a type.")
    if (part := _misshapen_part(event)) is not None:
        # Stripe's events carry objects there: nothing of such an event can be read.
        raise InvalidNotification(f"A Stripe event's {part} is a JSON object.")
    return Notification(event["id"], event["type"], event, _game_of(event, games_by_secret[secret]))


def _signed_with(body: bytes, header: str, secret: str) -> bool:
    """The signature alone (the SDK's `WebhookSignature.verify_header`): `construct_event`
    also builds an event of the body, failing with an AttributeError (a 500) on signed JSON that
    is not an object and a RecursionError on JSON nested too deep; _json_object reads it."""
    try:
        stripe_sdk.WebhookSignature.verify_header(
            body, header, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe_sdk.SignatureVerificationError, UnicodeDecodeError):
        return False
    return True


def _game_of(event: dict[str, Any], game_ids: list[int]) -> int:
    """The game of an event, when games share an endpoint secret: the one its signed metadata
    names (our sessions and payment intents carry it), else the one whose payment it concerns
    (a dispute or a charge carries no metadata of ours, only its payment intent: a chargeback
    of the second game's payment must reach that game's purchase, not be ignored)."""
    obj, metadata = _event_object(event)
    named = _int(metadata.get("game_id"))
    if named in game_ids:
        return named
    reference = _reference(obj.get("payment_intent"))
    if len(game_ids) > 1 and reference:
        paid_in = (
            Payment.objects.filter(
                provider="stripe", game_id__in=game_ids, payment_reference=reference
            )
            .values_list("game_id", flat=True)
            .first()
        )
        if paid_in is not None:
            return paid_in
    return game_ids[0]


def _misshapen_part(event: Mapping[str, Any]) -> str | None:
    """Which of `data`, `data.object` and its `metadata` is there (not null) and not a JSON
    object, or None."""
    data = event.get("data")
    if data is None:
        return None
    if not isinstance(data, dict):
        return "data"
    obj = data.get("object")
    if obj is None:
        return None
    if not isinstance(obj, dict):
        return "data.object"
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "data.object.metadata"
    return None


def _event_object(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The event's `data.object` and its `metadata`, each empty when not a JSON object: the
    webhook refuses such an event (_misshapen_part), but one stored before it did is processed
    (ignored), not failed again and again."""
    data = payload.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    obj: Mapping[str, Any] = found if isinstance(found, dict) else {}
    metadata = obj.get("metadata")
    return obj, metadata if isinstance(metadata, dict) else {}


def _id(value: object, *, limit: int) -> str:
    """An id Stripe reported, if it is text a payment's column can hold; else none (""): one
    longer is none of ours, and stored it would fail the update (the task, again and again)."""
    return value if isinstance(value, str) and len(value) <= limit else ""


def _reference(value: object) -> str:
    """A payment intent's id, stored as the payment's reference (_id)."""
    return _id(value, limit=MAX_REFERENCE_LENGTH)


def interpret(event_type: str, payload: dict[str, Any]) -> Outcome:
    obj, metadata = _event_object(payload)
    session_id = _id(obj.get("id"), limit=MAX_SESSION_ID_LENGTH)
    purchase_id = _int(metadata.get("purchase_id") or obj.get("client_reference_id"))
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            # A delayed payment method (a bank debit): the session is complete and no longer
            # expires; async_payment_succeeded or _failed ends it, days later.
            return Outcome(
                "submitted",
                external_id=session_id,
                purchase_id=purchase_id,
                note="awaiting async payment",
            )
        return Outcome(
            "paid",
            external_id=session_id,
            purchase_id=purchase_id,
            details={"payment_reference": _reference(obj.get("payment_intent"))},
            # A Checkout Session always carries both; a missing total cannot match the price.
            paid=PaidAmount.reported(
                amount=iso_amount(obj.get("amount_total"), obj.get("currency")),
                currency=obj.get("currency"),
            ),
        )
    if event_type == "checkout.session.expired":
        return Outcome("expired", external_id=session_id, purchase_id=purchase_id)
    if event_type == "checkout.session.async_payment_failed":
        return Outcome("failed", external_id=session_id, purchase_id=purchase_id)
    if event_type == "charge.refunded":
        reference = _reference(obj.get("payment_intent"))
        if obj.get("refunded"):
            return Outcome("refund", payment_reference=reference, purchase_id=purchase_id)
        refunded, amount = obj.get("amount_refunded"), obj.get("amount")
        return Outcome(
            "flag",
            payment_reference=reference,
            purchase_id=purchase_id,
            note=f"Partial refund of {refunded} of {amount}: review the grant.",
        )
    if event_type == "charge.dispute.created":
        return Outcome("chargeback", payment_reference=_reference(obj.get("payment_intent")))
    if event_type == "charge.dispute.closed":
        return Outcome(
            "flag",
            payment_reference=_reference(obj.get("payment_intent")),
            note=f"Dispute closed: {obj.get('status')}; the chargeback reversal stays.",
        )
    return Outcome("none", note=f"{event_type} needs no action")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        event = loads_json(body)
    except ValueError:
        raise InvalidNotification("The body is not JSON.")
    if not isinstance(event, dict):
        raise InvalidNotification("The body is not a JSON object.")
    return event


def _int(value: Any) -> int | None:
    """A JSON value as an id, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error_message(exc: stripe_sdk.StripeError) -> str:
    if exc.user_message:
        return str(exc.user_message)
    if exc.http_status:
        return f"HTTP {exc.http_status}"
    return type(exc).__name__
