"""Google Play: purchase tokens checked with the Play Developer API (`purchases.products`) as
the game's service account (OAuth 2.0 JWT-bearer grant), then acknowledged or consumed; refunds
arrive as Real-time developer notifications (Pub/Sub push)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from google.auth import exceptions as google_errors
from google.auth import transport as google_transport
from google.auth.transport import requests as google_requests
from google.oauth2 import id_token, service_account

from apps.payments.errors import (
    InvalidNotification,
    InvalidReceipt,
    InvalidSignature,
    ProviderNotConfigured,
    ProviderUnavailable,
    ReceiptNotPaid,
)
from apps.payments.models import Payment, ProviderAccount
from apps.payments.providers.base import (
    Notification,
    Outcome,
    VerifiedReceipt,
    call,
    check_account_token,
    check_storable,
    json_object,
)
from gamingpanel import crypto
from gamingpanel.parsers import loads as loads_json
from gamingpanel.storable import UNSTORABLE

logger = logging.getLogger(__name__)
# A product purchase's purchaseState other than 0 (purchased), in words (any JSON value may come).
PURCHASE_STATES: dict[object, str] = {1: "cancelled", 2: "pending"}

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
# Pub/Sub push tokens are Google-signed OIDC ID tokens with this issuer.
PUSH_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
CLOCK_SKEW_SECONDS = 10
CERTS_CACHE_KEY = "payments:google-oidc-certs"
CERTS_CACHE_SECONDS = 3600
CERTS_REFETCH_KEY = "payments:google-oidc-certs-refetch"
CERTS_REFETCH_SECONDS = 60
# purchases.voidedpurchases.list looks back at most 30 days.
VOIDED_LIST_WINDOW_MS = 30 * 24 * 3600 * 1000 - 60_000
VOID_MARGIN_MS = 24 * 3600 * 1000
VOIDED_LIST_MAX_PAGES = 20
# A voided-purchase notice's refundType: the whole purchase, or some units of a multi-unit one.
FULL_REFUND, PARTIAL_REFUND = 1, 2
_SESSION = requests.Session()


def verify_purchase(
    *, account: ProviderAccount, receipt: object, product_id: str, player_id: int | None = None
) -> VerifiedReceipt:
    """`receipt` is {"purchase_token": "..."} (or the token string) from the Play Billing
    Library; the product id comes from the offer, so a token for another product fails. A
    purchase made with `setObfuscatedAccountId` names its buyer: it must be `player_id`'s
    store account token (`base.player_account_token`)."""
    token = receipt.get("purchase_token") if isinstance(receipt, dict) else receipt
    if not isinstance(token, str) or not token or len(token) > 500:
        raise InvalidReceipt('A Google Play receipt is {"purchase_token": "..."}.')
    response = call("GET", _product_url(account, product_id, token), headers=_auth(account))
    if response.status_code in (400, 404, 410):
        raise InvalidReceipt("Google Play does not know this purchase token for this product.")
    if response.status_code != 200:
        raise ProviderUnavailable(f"Google Play answered {response.status_code}.")
    purchase = json_object(response.content, who="Google Play")
    state = purchase.get("purchaseState")
    if not isinstance(state, int) or isinstance(state, bool):
        # A ProductPurchase always has one: without it (`{}`) Google said nothing about the
        # purchase, a 503 as its other answers that are not the resource it documents, not
        # a player told they did not pay.
        raise ProviderUnavailable("Google Play answered a purchase without a purchaseState.")
    if state != 0:
        word = PURCHASE_STATES.get(state, f"in state {state}")
        raise ReceiptNotPaid(f"The purchase is {word}.")
    if purchase.get("purchaseType") == 0 and not (
        account.game.sandbox or account.config.get("accept_test_purchases")
    ):
        raise InvalidReceipt("Test purchases are not accepted for this game.")
    check_account_token(purchase.get("obfuscatedExternalAccountId"), player_id=player_id)
    return VerifiedReceipt(
        transaction_id=order_transaction_id(purchase.get("orderId")) or token_transaction_id(token),
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


def parse_notification(
    *, body: bytes, query: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> Notification:
    """A Pub/Sub push, authenticated before anything in it is trusted: with the push
    subscription's Google-signed OIDC token (`Authorization: Bearer`, checked with google-auth
    against the account's `push_audience` and `push_service_account`), with the secret
    `?token=<rtdn_token>` in the push URL, or both; every method the account configures must
    pass, and an account that configures none accepts no push. A voided purchase is then
    confirmed with the Play Developer API before it can revoke anything. Disabled accounts
    verify too: disabling one stops new receipts, not the refunds of what it already sold."""
    try:
        envelope = loads_json(body)
        message = envelope["message"]
        data = loads_json(base64.b64decode(message["data"]))
        message_id = str(message.get("messageId") or message["message_id"])
        package = data["packageName"]
        if not isinstance(package, str) or UNSTORABLE.search(package):
            # Read before the push is authenticated: U+0000 or a lone surrogate, which no
            # package name holds, would fail the accounts' query (a 500).
            raise TypeError
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidNotification("Not a Pub/Sub push of a Play developer notification.")
    payload: dict[str, Any] = {**envelope, "decoded": data}
    # Refused before the push is authenticated or confirmed with Google: a messageId longer
    # than the event's id holds, or U+0000 or a lone surrogate anywhere in the push, would fail
    # the event's insert (a 500, and Pub/Sub delivering it again for days).
    check_storable(message_id, payload, id_name="messageId")
    bearer = _bearer((headers or {}).get("Authorization", ""))
    sharing = list(
        ProviderAccount.objects.filter(provider="google_play", config__package_name=package)
        .select_related("game")
        .order_by("-enabled", "pk")
    )
    authenticated = [
        a for a in sharing if _push_authenticated(a, token=query.get("token", ""), bearer=bearer)
    ]
    if not authenticated:
        raise InvalidSignature("Unknown package, or the push is not authenticated for it.")
    # A push one game's subscription authenticates is Google's word on the app: it reaches the
    # game whose purchase it is among every game sharing the package.
    account = _account_of_purchase(sharing, data, default=authenticated[0])
    kinds = [k for k in data if k.endswith("Notification")]
    event_type = kinds[0] if kinds else "unknown"
    if event_type == "voidedPurchaseNotification":
        voided = data[event_type] if isinstance(data[event_type], dict) else {}
        event_type = f"{event_type}/{voided.get('refundType', '')}"
        payload["confirmation"] = confirm_voided(
            account=account, voided=voided, event_time_millis=data.get("eventTimeMillis")
        )
        if not payload["confirmation"]["voided"]:
            logger.warning(
                "google play voided-purchase notice %s for %s not confirmed by the Play "
                "Developer API: nothing is revoked",
                message_id,
                package,
            )
    return Notification(message_id, event_type, payload, account.game_id)


def _account_of_purchase(
    accounts: list[ProviderAccount], data: Mapping[str, Any], *, default: ProviderAccount
) -> ProviderAccount:
    """Games may share an app (its package): the account of the game whose payment the
    notification's purchase is, else `default` (the account the push authenticated for). A
    refund of the second game's purchase reaches it (and is confirmed with its credentials)
    rather than being looked up, and ignored, in the first; Pub/Sub's copy for the other
    game's subscription is then a duplicate of it."""
    if len(accounts) == 1:
        return default
    ids: list[str] = []
    for kind, part in data.items():
        if kind.endswith("Notification") and isinstance(part, dict):
            ids += [order_transaction_id(part.get("orderId")), str(part.get("purchaseToken") or "")]
    ids = [found for found in ids if found]
    if ids:
        paid_in = (
            Payment.objects.filter(
                provider="google_play", game_id__in=[a.game_id for a in accounts]
            )
            .filter(Q(external_id__in=ids) | Q(payment_reference__in=ids))
            .values_list("game_id", flat=True)
            .first()
        )
        for account in accounts:
            if account.game_id == paid_in:
                return account
    return default


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _push_authenticated(account: ProviderAccount, *, token: str, bearer: str) -> bool:
    """Every configured method must pass; none configured accepts nothing (comparing "" with ""
    would let anyone post a voided-purchase notice for the package)."""
    expected = account.secrets.get("rtdn_token")
    audience = account.config.get("push_audience")
    service_account_email = account.config.get("push_service_account")
    uses_token = isinstance(expected, str) and bool(expected)
    uses_oidc = bool(audience or service_account_email)
    if not uses_token and not uses_oidc:
        return False
    if uses_token and not (token and hmac.compare_digest(str(expected).encode(), token.encode())):
        return False
    if uses_oidc:
        if not (audience and service_account_email and bearer):
            return False
        claims = push_token_claims(bearer, audience=str(audience))
        if claims is None or claims.get("iss") not in PUSH_ISSUERS:
            return False
        if claims.get("email") != service_account_email or claims.get("email_verified") is not True:
            return False
    return True


def push_token_claims(token: str, *, audience: str) -> Mapping[str, Any] | None:
    """The claims of a Google-signed OIDC token for `audience` (signature, expiry and audience
    checked by google-auth against Google's certificates at GOOGLE_OIDC_CERTS_URL), or None.
    Google's certificates are cached; a token naming a key id the cache lacks fetches them
    again (at most once a minute), so a rotation is picked up at once."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    transport = _CertsTransport(fresh=False)
    known = transport.cached_key_ids()
    try:
        if known and kid not in known and cache.add(CERTS_REFETCH_KEY, 1, CERTS_REFETCH_SECONDS):
            transport = _CertsTransport(fresh=True)
        return id_token.verify_token(
            token,
            transport,
            audience=audience,
            certs_url=settings.GOOGLE_OIDC_CERTS_URL,
            clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
        )
    except google_errors.TransportError:
        raise ProviderUnavailable("Google's token certificates could not be fetched.")
    except (ValueError, google_errors.GoogleAuthError):
        return None


class _Transport(google_requests.Request):
    """google-auth's `requests` transport, on one pooled session, with the payment timeout. A
    200 whose body is not a JSON object (the token endpoint's and the certificates' always are)
    is a TransportError, as no answer is: google-auth would fail on it with a TypeError (a 500),
    and certificates that are not JSON would be cached, failing every push for an hour."""

    def __init__(self) -> None:
        super().__init__(session=_SESSION)

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        response = super().__call__(
            url,
            method=method,
            body=body,
            headers=headers,
            timeout=settings.PAYMENT_HTTP_TIMEOUT,
            **kwargs,
        )
        if response.status == 200:
            try:
                json_object(response.data, who=url.split("/")[2])
            except ProviderUnavailable as exc:
                raise google_errors.TransportError(str(exc)) from None
        return response


class _CachedResponse(google_transport.Response):
    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def status(self) -> int:
        return 200

    @property
    def headers(self) -> Mapping[str, str]:
        return {"content-type": "application/json"}

    @property
    def data(self) -> bytes:
        return self._data


class _CertsTransport(_Transport):
    """Serves Google's OIDC certificates from the shared cache (CERTS_CACHE_SECONDS), unless
    `fresh`; any other call goes out as usual."""

    def __init__(self, *, fresh: bool) -> None:
        super().__init__()
        self.fresh = fresh

    def cached_key_ids(self) -> set[str]:
        data = cache.get(CERTS_CACHE_KEY)
        try:
            return set(json.loads(data)) if data else set()
        except (ValueError, TypeError):
            return set()

    def __call__(self, url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        if method != "GET" or url != settings.GOOGLE_OIDC_CERTS_URL:
            return super().__call__(url, method, *args, **kwargs)
        if not self.fresh and (data := cache.get(CERTS_CACHE_KEY)):
            return _CachedResponse(data)
        response = super().__call__(url, method, *args, **kwargs)
        if response.status == 200:
            cache.set(CERTS_CACHE_KEY, response.data, CERTS_CACHE_SECONDS)
        return response


def confirm_voided(
    *, account: ProviderAccount, voided: Mapping[str, Any], event_time_millis: object
) -> dict[str, Any]:
    """Ask the Play Developer API (`purchases.voidedpurchases.list`) whether this purchase
    token really was voided. Google down, throttling or a 5xx: ProviderUnavailable (a 503, so
    Pub/Sub delivers the push again later); refused credentials: ProviderNotConfigured."""
    token = voided.get("purchaseToken")
    if not isinstance(token, str) or not token:
        return {"voided": False, "reason": "the notice names no purchaseToken"}
    url = f"{_package_url(account)}/purchases/voidedpurchases"
    now_ms = int(time.time() * 1000)
    oldest = now_ms - VOIDED_LIST_WINDOW_MS
    listing: dict[str, Any] = {
        "maxResults": 1000,
        "type": 1 if voided.get("productType") == 1 else 0,
    }
    if _refund_type(voided) == PARTIAL_REFUND:
        # Google lists quantity-based partial refunds only when asked to.
        listing["includeQuantityBasedPartialRefund"] = "true"
    params = dict(listing)
    try:
        # Voided shortly before Google told us; never older than the API's 30-day window.
        params["startTime"] = max(int(str(event_time_millis)) - VOID_MARGIN_MS, oldest)
    except ValueError:
        params["startTime"] = oldest
    for _page in range(VOIDED_LIST_MAX_PAGES):
        response = call("GET", url, params=params, headers=_auth(account))
        if response.status_code in (401, 403, 404):
            raise ProviderNotConfigured(
                f"Google Play refused the voided-purchases list ({response.status_code}): check "
                "the service account's access to this app."
            )
        if response.status_code != 200:
            raise ProviderUnavailable(f"Google Play answered {response.status_code}.")
        body = json_object(response.content, who="Google Play")
        entries, pagination = body.get("voidedPurchases") or [], body.get("tokenPagination") or {}
        if not isinstance(entries, list) or not isinstance(pagination, dict):
            raise ProviderUnavailable(
                "Google Play answered a voided-purchases list of another shape."
            )
        for entry in entries:
            if isinstance(entry, dict) and entry.get("purchaseToken") == token:
                return {"voided": True, "voidedPurchase": entry}
        next_page = pagination.get("nextPageToken")
        if not next_page:
            break
        params = {**listing, "token": next_page}
    return {"voided": False, "reason": "not in the Play Developer API's voided purchases"}


def interpret(event_type: str, payload: dict[str, Any]) -> Outcome:
    data = payload.get("decoded") or {}
    if event_type.startswith("voidedPurchaseNotification"):
        voided = data["voidedPurchaseNotification"]
        confirmation = payload.get("confirmation") or {}
        if confirmation.get("voided") is not True:
            reason = confirmation.get("reason") or "not confirmed with the Play Developer API"
            return Outcome("none", note=f"{event_type} not revoked: {reason}")
        # The ids of the purchase the Play Developer API listed as voided, not the notice's
        # own: the confirmation matched the notice's purchaseToken only, and an orderId beside
        # it (a push authenticated by any game naming the package) would revoke that order.
        confirmed = confirmation.get("voidedPurchase") or {}
        # As the payment stores it (verify_purchase): a long one by its SHA-256.
        order_id = order_transaction_id(confirmed.get("orderId"))
        token = str(confirmed.get("purchaseToken") or "")
        refund_type = _refund_type(voided)
        if refund_type == PARTIAL_REFUND:
            # Some units of a multi-unit purchase: reversing the purchase would take back what
            # the player still paid for, so an operator takes back the refunded units.
            units = confirmed.get("voidedQuantity", "some")
            note = f"Google Play partial refund: {units} unit(s) voided; nothing taken back, "
            note += "review the grant."
        elif refund_type not in (None, FULL_REFUND):
            note = f"Google Play refund of unknown refundType {refund_type}: review the grant."
        else:
            return Outcome("refund", external_id=order_id, payment_reference=token, note=event_type)
        return Outcome("flag", external_id=order_id, payment_reference=token, note=note)
    return Outcome("none", note=f"{event_type} needs no action")


def _refund_type(voided: Mapping[str, Any]) -> int | str | None:
    """The notice's refundType as a number; None when absent (notices from before Google added
    it were all full refunds); anything unreadable as it was sent."""
    value = voided.get("refundType")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _package_url(account: ProviderAccount) -> str:
    package = account.config.get("package_name")
    if not package:
        raise ProviderNotConfigured("This game's Google Play account has no package_name.")
    base = settings.GOOGLE_PLAY_API_BASE_URL.rstrip("/")
    return f"{base}/androidpublisher/v3/applications/{quote(package, safe='')}"


# A purchase without an orderId (a promo code, some test purchases) is known by its token, which
# may run to 500 characters: the purchase's key ("google_play§<id>", one separator character)
# holds 200 (the payment's external_id 255). A token that fits is kept as it is (as stored before);
# a longer one by its SHA-256, the same for every redemption of that token. Refunds find the
# payment by the token itself (payment_reference).
MAX_TOKEN_AS_ID = 200 - len("google_play:")


def token_transaction_id(token: str) -> str:
    if len(token) <= MAX_TOKEN_AS_ID:
        return token
    return "token-sha256:" + hashlib.sha256(token.encode()).hexdigest()


def order_transaction_id(order_id: object) -> str:
    """A purchase's orderId as its transaction id ("" for none). Google's are short
    ("GPA.1234-5678-9012-34567"), but one longer than the purchase's key and the payment's id
    hold (MAX_TOKEN_AS_ID) failed the redemption's insert (a 500, the player charged and never
    granted, on every retry): it is known by its SHA-256, the same for every redemption and for
    the voided-purchase notice that names it."""
    text = str(order_id or "")
    if len(text) <= MAX_TOKEN_AS_ID:
        return text
    return "order-sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _product_url(account: ProviderAccount, product_id: str, token: str) -> str:
    return (
        f"{_package_url(account)}/purchases/products/"
        f"{quote(product_id, safe='')}/tokens/{quote(token, safe='')}"
    )


def _auth(account: ProviderAccount) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(account)}"}


def access_token(account: ProviderAccount) -> str:
    """An OAuth access token for the game's service account (google-auth's service-account
    credentials: a JWT-bearer grant at GOOGLE_OAUTH_TOKEN_URL), cached (encrypted) in the shared
    cache until shortly before it expires. The service-account JSON is one of the account's
    encrypted secrets."""
    info = account.secrets.get("service_account")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            info = None
    if not isinstance(info, dict) or not info.get("private_key") or not info.get("client_email"):
        raise ProviderNotConfigured("This game's Google Play account has no service_account.")
    # The account and its exact key, not the e-mail alone: another game naming a service
    # account's e-mail with a key of its own must not be handed that account's cached token.
    credential = hashlib.sha256(
        json.dumps([info["client_email"], info["private_key"]]).encode()
    ).hexdigest()
    cache_key = f"payments:google-token:{account.pk}:{credential}"
    if cached := _cached_token(cache_key):
        return cached
    try:
        credentials = service_account.Credentials.from_service_account_info(
            {**info, "token_uri": settings.GOOGLE_OAUTH_TOKEN_URL}, scopes=[SCOPE]
        )
        credentials.refresh(_Transport())
    except google_errors.TransportError:
        raise ProviderUnavailable("Google's token endpoint did not answer.")
    except google_errors.RefreshError as exc:
        if exc.retryable:
            raise ProviderUnavailable("Google's token endpoint is unavailable; try again.")
        raise ProviderNotConfigured("Google refused the service account; check its key.")
    except ValueError:
        raise ProviderNotConfigured("This game's Google Play service_account is not usable.")
    token = str(credentials.token)
    expiry = credentials.expiry  # naive UTC, as google-auth keeps it
    lifetime = (expiry - datetime.now(UTC).replace(tzinfo=None)).total_seconds() if expiry else 0
    # Encrypted with the secrets' key ring: whoever reads the shared cache (Redis) must not be
    # able to call the Play Developer API as the studio.
    sealed = crypto.encrypt_json({"access_token": token})
    cache.set(cache_key, sealed, max(int(lifetime) - 60, 1))
    return token


def _cached_token(cache_key: str) -> str | None:
    """The cached access token, or None: nothing cached, or nothing a configured key opens (the
    key was rotated out, or a token cached in clear by an older release), which is fetched
    again and overwritten."""
    sealed = cache.get(cache_key)
    if not isinstance(sealed, str):
        return None
    try:
        token = crypto.decrypt_json(sealed).get("access_token")
    except (crypto.UndecryptableSecret, ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token else None
