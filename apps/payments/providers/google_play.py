"""Google Play: purchase tokens checked with the Play Developer API (`purchases.products`) as
the game's service account (OAuth 2.0 JWT-bearer grant), then acknowledged or consumed; refunds
arrive as Real-time developer notifications (Pub/Sub push)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import jwt
from django.conf import settings
from django.core.cache import cache

from apps.payments.errors import (
    InvalidNotification,
    InvalidReceipt,
    InvalidSignature,
    ProviderNotConfigured,
    ProviderUnavailable,
    ReceiptNotPaid,
)
from apps.payments.models import ProviderAccount
from apps.payments.providers.base import Notification, Outcome, VerifiedReceipt, call
from gamingpanel.parsers import loads as loads_json

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def verify_purchase(
    *, account: ProviderAccount, receipt: object, product_id: str
) -> VerifiedReceipt:
    """`receipt` is {"purchase_token": "..."} (or the token string) from the Play Billing
    Library; the product id comes from the offer, so a token for another product fails."""
    token = receipt.get("purchase_token") if isinstance(receipt, dict) else receipt
    if not isinstance(token, str) or not token or len(token) > 500:
        raise InvalidReceipt('A Google Play receipt is {"purchase_token": "..."}.')
    response = call("GET", _product_url(account, product_id, token), headers=_auth(account))
    if response.status_code in (400, 404, 410):
        raise InvalidReceipt("Google Play does not know this purchase token for this product.")
    if response.status_code != 200:
        raise ProviderUnavailable(f"Google Play answered {response.status_code}.")
    purchase = response.json()
    state = purchase.get("purchaseState")
    if state != 0:
        word = {1: "cancelled", 2: "pending"}.get(state, f"in state {state}")
        raise ReceiptNotPaid(f"The purchase is {word}.")
    if purchase.get("purchaseType") == 0 and not (
        account.game.sandbox or account.config.get("accept_test_purchases")
    ):
        raise InvalidReceipt("Test purchases are not accepted for this game.")
    return VerifiedReceipt(
        transaction_id=str(purchase.get("orderId") or token),
        product_id=product_id,
        payment_reference=token,
        environment="test" if purchase.get("purchaseType") == 0 else "production",
        details={
            "acknowledgementState": purchase.get("acknowledgementState"),
            "consumptionState": purchase.get("consumptionState"),
            "quantity": purchase.get("quantity", 1),
        },
    )


def finish_purchase(
    *, account: ProviderAccount, product_id: str, token: str, consume: bool
) -> None:
    """Consume (buyable again) or acknowledge; Google refunds purchases left unacknowledged
    for three days, so the caller retries this until it succeeds."""
    action = "consume" if consume else "acknowledge"
    response = call(
        "POST", f"{_product_url(account, product_id, token)}:{action}", headers=_auth(account)
    )
    if response.status_code not in (200, 204):
        raise ProviderUnavailable(f"Google Play {action} answered {response.status_code}.")


def parse_notification(*, body: bytes, query: Mapping[str, str]) -> Notification:
    """A Pub/Sub push. The push subscription's URL carries `?token=<rtdn_token>`, a secret
    stored on the game's Google Play account, which is checked before anything is trusted; an
    account without that secret accepts no push."""
    try:
        envelope = loads_json(body)
        message = envelope["message"]
        data = loads_json(base64.b64decode(message["data"]))
        message_id = str(message.get("messageId") or message["message_id"])
        package = data["packageName"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidNotification("Not a Pub/Sub push of a Play developer notification.")
    account = next(
        (
            a
            for a in ProviderAccount.objects.filter(
                provider="google_play", enabled=True, config__package_name=package
            ).select_related("game")
            if _push_token_matches(a, query.get("token", ""))
        ),
        None,
    )
    if account is None:
        raise InvalidSignature("Unknown package or wrong token for this push endpoint.")
    kinds = [k for k in data if k.endswith("Notification")]
    event_type = kinds[0] if kinds else "unknown"
    if event_type == "voidedPurchaseNotification":
        event_type = f"{event_type}/{data[event_type].get('refundType', '')}"
    return Notification(message_id, event_type, {**envelope, "decoded": data}, account.game_id)


def _push_token_matches(account: ProviderAccount, sent: str) -> bool:
    """An account with no `rtdn_token` accepts no push at all: comparing "" with "" would let
    anyone post a voided-purchase notice for its package."""
    expected = account.secrets.get("rtdn_token")
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def interpret(event_type: str, payload: dict[str, Any]) -> Outcome:
    data = payload.get("decoded") or {}
    if event_type.startswith("voidedPurchaseNotification"):
        voided = data["voidedPurchaseNotification"]
        return Outcome(
            "refund",
            external_id=str(voided.get("orderId") or ""),
            payment_reference=str(voided.get("purchaseToken") or ""),
            note=event_type,
        )
    return Outcome("none", note=f"{event_type} needs no action")


def _product_url(account: ProviderAccount, product_id: str, token: str) -> str:
    package = account.config.get("package_name")
    if not package:
        raise ProviderNotConfigured("This game's Google Play account has no package_name.")
    base = settings.GOOGLE_PLAY_API_BASE_URL.rstrip("/")
    return (
        f"{base}/androidpublisher/v3/applications/{quote(package, safe='')}/purchases/products/"
        f"{quote(product_id, safe='')}/tokens/{quote(token, safe='')}"
    )


def _auth(account: ProviderAccount) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(account)}"}


def access_token(account: ProviderAccount) -> str:
    """An OAuth access token for the service account, cached until shortly before it expires."""
    service_account = account.secrets.get("service_account")
    if isinstance(service_account, str):
        service_account = json.loads(service_account)
    if not isinstance(service_account, dict) or not service_account.get("private_key"):
        raise ProviderNotConfigured("This game's Google Play account has no service_account.")
    email = service_account["client_email"]
    cache_key = f"payments:google-token:{email}"
    if cached := cache.get(cache_key):
        return cached
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": email,
            "scope": SCOPE,
            "aud": settings.GOOGLE_OAUTH_TOKEN_URL,
            "iat": now,
            "exp": now + 3600,
        },
        service_account["private_key"],
        algorithm="RS256",
        headers={"kid": service_account.get("private_key_id", "")},
    )
    response = call(
        "POST",
        settings.GOOGLE_OAUTH_TOKEN_URL,
        data={"grant_type": JWT_BEARER, "assertion": assertion},
    )
    if response.status_code != 200:
        raise ProviderNotConfigured(
            f"Google refused the service account ({response.status_code}); check its key."
        )
    body = response.json()
    cache.set(cache_key, body["access_token"], max(int(body.get("expires_in", 3600)) - 60, 1))
    return body["access_token"]
