"""Apple App Store, through Apple's own `app-store-server-library`: StoreKit 2 signed
transactions and App Store Server Notifications v2 are JWS (ES256) whose `x5c` chain must end at
one of the configured Apple roots (APPLE_APP_STORE_ROOT_CERTS), checked by the library's
`SignedDataVerifier`; a StoreKit 1 transaction id is looked up with the App Store Server API's
Get Transaction Info (the library's `AppStoreServerAPIClient`, authenticated with the game's
In-App Purchase key as an ES256 JWT), and the signed transaction it returns is verified the same
way. Both make their HTTP calls with `requests`; the API's base URLs are settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import requests
from appstoreserverlibrary.api_client import APIError, APIException, AppStoreServerAPIClient
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import (
    SignedDataVerifier,
    VerificationException,
    VerificationStatus,
)
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from apps.payments.errors import (
    InvalidNotification,
    InvalidReceipt,
    ProviderNotConfigured,
    ProviderUnavailable,
    ReceiptNotPaid,
)
from apps.payments.models import Payment, ProviderAccount
from apps.payments.providers.base import (
    REFUND_NEWS_SIGNED,
    REFUND_UNDONE,
    Notification,
    Outcome,
    VerifiedReceipt,
    check_account_token,
    json_object,
)
from gamingpanel.errors import DomainError
from gamingpanel.parsers import loads as loads_json
from gamingpanel.storable import UNSTORABLE

# Apple marks its App Store receipt-signing leaf and its WWDR intermediate with these OIDs
# (the library checks both).
LEAF_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
INTERMEDIATE_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")
# Apple's transaction ids are decimal numbers (16 digits today): a StoreKit 1 id looked up, and
# a signed transaction's transactionId and originalTransactionId, which the payment stores.
TRANSACTION_ID = re.compile(r"[0-9]{1,40}")
# Signed by Apple: only these. Xcode and LocalTesting data is unsigned (the library skips the
# signature for them), so it is never accepted.
SIGNED_ENVIRONMENTS = {"Production": Environment.PRODUCTION, "Sandbox": Environment.SANDBOX}


def verify_transaction(
    *, account: ProviderAccount, receipt: object, player_id: int | None = None
) -> VerifiedReceipt:
    """`receipt` is a StoreKit 2 Transaction's `jwsRepresentation` (a string), or a StoreKit 1
    purchase's {"transaction_id": "..."} (`SKPaymentTransaction.transactionIdentifier`), which
    is looked up with the App Store Server API. A transaction that carries an `appAccountToken`
    (StoreKit 2 `appAccountToken`, StoreKit 1 `applicationUsername` set to a UUID) must carry
    `player_id`'s store account token."""
    if isinstance(receipt, str):
        signed = receipt
    elif isinstance(receipt, dict) and isinstance(receipt.get("transaction_id"), str):
        signed = look_up_transaction(account=account, transaction_id=receipt["transaction_id"])
    else:
        raise InvalidReceipt(
            'An App Store receipt is the signed transaction (a JWS string), or {"transaction_id": '
            '"..."} for a StoreKit 1 purchase.'
        )
    info = verify_signed_transaction(account=account, signed=signed)
    if info.get("revocationDate"):
        raise ReceiptNotPaid("Apple revoked or refunded this transaction.")
    if not info.get("transactionId") or not info.get("productId"):
        raise InvalidReceipt("The transaction has no transactionId or productId.")
    transaction_id = _transaction_id(info["transactionId"], name="transactionId")
    original_id = info.get("originalTransactionId")
    check_account_token(info.get("appAccountToken"), player_id=player_id)
    return VerifiedReceipt(
        transaction_id=transaction_id,
        product_id=str(info["productId"]),
        payment_reference=(
            _transaction_id(original_id, name="originalTransactionId") if original_id else ""
        ),
        environment=str(info.get("environment") or ""),
        details={"quantity": info.get("quantity", 1), "purchaseDate": info.get("purchaseDate")},
    )


def _transaction_id(value: object, *, name: str) -> str:
    """A signed transaction's id as the payment stores it: Apple's are decimal numbers
    (TRANSACTION_ID). Any other (a 5,000-character one) is no store's: 400, not a 500 at the
    purchase's insert, nor a row holding part of it that another id would share."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not TRANSACTION_ID.fullmatch(value):
        raise InvalidReceipt(f"The transaction's {name} is not an App Store transaction id.")
    return value


def verify_signed_transaction(*, account: ProviderAccount, signed: str) -> dict[str, Any]:
    """A JWSTransaction of this game's app, verified by the library's SignedDataVerifier (chain
    to a configured root, Apple's marker OIDs, ES256 signature, bundle id, environment)."""
    bundle_id = account.config.get("bundle_id")
    if not bundle_id:
        raise ProviderNotConfigured("This game's App Store account has no bundle_id.")
    claims = _unverified_claims(signed, InvalidReceipt)
    environment = _environment(account, claims.get("environment"), InvalidReceipt)
    verifier = _verifier(
        bundle_id=str(bundle_id),
        environment=environment,
        # Only notifications compare the app's Apple id; the library wants one for Production.
        app_apple_id=_app_apple_id(account) or 0,
    )
    _verified(lambda: verifier.verify_and_decode_signed_transaction(signed), InvalidReceipt)
    return claims


def look_up_transaction(*, account: ProviderAccount, transaction_id: str) -> str:
    """Get Transaction Info: the signed transaction of a StoreKit 1 purchase. Production first;
    Apple's TransactionIdNotFoundError there means a sandbox purchase, asked of the sandbox
    only when the game accepts sandbox transactions."""
    if not TRANSACTION_ID.fullmatch(transaction_id):
        raise InvalidReceipt("An App Store transaction id is a decimal number.")
    bases = [(settings.APPLE_APP_STORE_API_BASE_URL, Environment.PRODUCTION)]
    if _accepts_sandbox(account):
        bases.append((settings.APPLE_APP_STORE_SANDBOX_API_BASE_URL, Environment.SANDBOX))
    for base_url, environment in bases:
        client = _api_client(account, base_url=base_url, environment=environment)
        try:
            signed = client.get_transaction_info(transaction_id).signedTransactionInfo
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                f"The App Store Server API did not answer: {type(exc).__name__}."
            )
        except APIException as exc:
            if exc.api_error == APIError.TRANSACTION_ID_NOT_FOUND or exc.http_status_code == 404:
                continue
            raise _api_problem(exc)
        if not signed:
            raise ProviderUnavailable("The App Store Server API returned no signed transaction.")
        return signed
    raise InvalidReceipt("The App Store does not know this transaction id.")


class _ServerApiClient(AppStoreServerAPIClient):
    """Apple's client, pointed at a base URL from the settings and given the payment timeout
    (the library fixes both per environment: the base URL in `_base_url`, the call in
    `_execute_request`, which is a plain `requests.request`). A 200 whose body is not a JSON
    object is a 503: the library would fail on `null` or a number with a TypeError (a 500)."""

    def __init__(self, *, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base_url = base_url.rstrip("/")

    def _execute_request(
        self,
        method: str,
        url: str,
        params: Any,
        headers: dict[str, str],
        json: Any,
        data: bytes | None,
    ) -> requests.Response:
        response = requests.request(
            method,
            url,
            params=params,
            headers=headers,
            json=json,
            data=data,
            timeout=settings.PAYMENT_HTTP_TIMEOUT,
        )
        if response.status_code == 200:
            json_object(response.content, who="The App Store Server API")
        return response


def _api_client(
    account: ProviderAccount, *, base_url: str, environment: Environment
) -> _ServerApiClient:
    key = account.secrets.get("private_key")
    issuer_id, key_id = account.config.get("issuer_id"), account.config.get("key_id")
    if not key or not issuer_id or not key_id:
        raise ProviderNotConfigured(
            "StoreKit 1 transaction ids need the game's In-App Purchase key: private_key "
            "(secret), issuer_id and key_id."
        )
    try:
        return _ServerApiClient(
            base_url=base_url,
            signing_key=str(key).encode(),
            key_id=str(key_id),
            issuer_id=str(issuer_id),
            bundle_id=str(account.config.get("bundle_id") or ""),
            environment=environment,
        )
    except (ValueError, TypeError):
        raise ProviderNotConfigured("The game's In-App Purchase private_key is not a PEM key.")


def _api_problem(exc: APIException) -> Exception:
    status = exc.http_status_code
    if status == 401:
        return ProviderNotConfigured(
            "The App Store Server API refused the In-App Purchase key (401): check private_key, "
            "key_id, issuer_id and bundle_id."
        )
    if status == 429 or status >= 500:
        return ProviderUnavailable(f"The App Store Server API answered {status}.")
    return InvalidReceipt(f"The App Store Server API refused the transaction id ({status}).")


def parse_notification(*, body: bytes) -> Notification:
    try:
        received = loads_json(body)
        signed = received["signedPayload"]
        if not isinstance(signed, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise InvalidNotification("An App Store notification has a signedPayload.")
    decoded = _unverified_claims(signed, InvalidNotification)
    data: dict[str, Any] = decoded["data"] if isinstance(decoded.get("data"), dict) else {}
    scope = _notification_scope(decoded)
    bundle_id = str(scope.get("bundleId"))
    if UNSTORABLE.search(bundle_id):
        # Read before any signature check, and no query can carry it (PostgreSQL's error, a
        # 500): Apple's bundle ids are reverse-DNS names.
        raise InvalidNotification("The notification's bundleId is not a bundle id.")
    # Disabled accounts verify too: disabling one stops new receipts, not the refunds of what
    # it already sold.
    sharing = ProviderAccount.objects.filter(provider="apple", config__bundle_id=bundle_id)
    accounts = list(sharing.select_related("game").order_by("-enabled", "pk"))
    account, verifier = _verifying_account(accounts, scope, signed)
    if signed_transaction := data.get("signedTransactionInfo"):
        _verified(
            lambda: verifier.verify_and_decode_signed_transaction(signed_transaction),
            InvalidNotification,
        )
        data["transactionInfo"] = _unverified_claims(signed_transaction, InvalidNotification)
    event_type = "/".join(filter(None, [decoded.get("notificationType"), decoded.get("subtype")]))
    event_id = decoded.get("notificationUUID")
    if not event_id or not event_type:
        raise InvalidNotification("The notification has no notificationUUID or type.")
    if account is not None:
        account = _account_of_transaction(account, accounts, data.get("transactionInfo"))
    return Notification(
        str(event_id),
        event_type,
        {**received, "decoded": decoded},
        account.game_id if account is not None else None,
        ignored=_refused_environment(account, scope.get("environment")),
    )


def _refused_environment(account: ProviderAccount | None, environment: object) -> str:
    """Why a notification is ignored for the game it reaches: a Sandbox one (the environment
    its verifier checked) for a game that accepts no Sandbox transactions, as its receipts are
    refused (_environment). Its refund must not reach a production payment sharing the
    transaction id, nor, kept `unmatched`, refuse a production receipt of it."""
    if account is None or environment != "Sandbox" or _accepts_sandbox(account):
        return ""
    return (
        "Sandbox notification ignored: this game accepts no Sandbox transactions "
        "(game sandbox off, no accept_sandbox)."
    )


def _verifying_account(
    accounts: list[ProviderAccount], scope: Mapping[str, Any], signed: str
) -> tuple[ProviderAccount | None, SignedDataVerifier]:
    """The account whose settings verify the notification, and its verifier. Games may share an
    app's bundle id, each with its own settings: the first (enabled ones first, then the oldest)
    whose settings verify it decides, so a game naming another's bundle id with wrong settings
    (or none) cannot make Apple's notifications for that app fail. With no account, only
    Apple's signature decides."""
    if not accounts:
        return None, _checked(_notification_verifier(None, scope), signed)
    refusals: list[DomainError] = []
    for account in accounts:
        try:
            return account, _checked(_notification_verifier(account, scope), signed)
        except (InvalidNotification, ProviderNotConfigured) as refused:
            refusals.append(refused)
    # None verifies it: a forged or foreign notification before a game left unconfigured.
    raise next((r for r in refusals if isinstance(r, InvalidNotification)), refusals[0])


def _checked(verifier: SignedDataVerifier, signed: str) -> SignedDataVerifier:
    _verified(lambda: verifier.verify_and_decode_notification(signed), InvalidNotification)
    return verifier


def _account_of_transaction(
    account: ProviderAccount, sharing: list[ProviderAccount], info: object
) -> ProviderAccount:
    """Games may share an app (its bundle id, each game's account in `sharing`): the account of
    the game whose payment the signed transaction is, else the verifying one. A refund of the
    second game's purchase reaches it rather than being looked up, and ignored, in the first."""
    transaction_id = str(info.get("transactionId") or "") if isinstance(info, dict) else ""
    if not transaction_id:
        return account
    games = {shared.game_id: shared for shared in sharing}
    paid_in = (
        Payment.objects.filter(
            provider="apple", game_id__in=list(games), external_id=transaction_id
        )
        .values_list("game_id", flat=True)
        .first()
    )
    return games[paid_in] if paid_in is not None else account


def _notification_scope(decoded: Mapping[str, Any]) -> dict[str, Any]:
    """The app and environment a notification is about, where the library reads them: its
    `data`, `summary` or `appData`, or an `externalPurchaseToken` (sandbox when its id says so)."""
    for part in ("data", "summary", "appData"):
        if isinstance(decoded.get(part), dict):
            return decoded[part]
    token = decoded.get("externalPurchaseToken")
    if isinstance(token, dict):
        sandbox = str(token.get("externalPurchaseId") or "").startswith("SANDBOX")
        return {**token, "environment": "Sandbox" if sandbox else "Production"}
    return {}


def _notification_verifier(
    account: ProviderAccount | None, data: Mapping[str, Any]
) -> SignedDataVerifier:
    """For a game's app: its bundle id and Apple id. For an app no game configures, the
    notification's own, so only Apple's signature decides (it is stored, and matches nothing)."""
    environment = SIGNED_ENVIRONMENTS.get(str(data.get("environment")))
    if environment is None:
        raise InvalidNotification("Only Production and Sandbox notifications are signed by Apple.")
    if account is None:
        app_apple_id = data.get("appAppleId")
        return _verifier(
            bundle_id=str(data.get("bundleId")),
            environment=environment,
            app_apple_id=app_apple_id if isinstance(app_apple_id, int) else 0,
        )
    app_apple_id = _app_apple_id(account)
    if environment == Environment.PRODUCTION and app_apple_id is None:
        raise ProviderNotConfigured(
            "Production App Store notifications need the game's app_apple_id (its Apple ID in "
            "App Store Connect)."
        )
    return _verifier(
        bundle_id=str(account.config.get("bundle_id")),
        environment=environment,
        app_apple_id=app_apple_id or 0,
    )


def interpret(event_type: str, payload: dict[str, Any]) -> Outcome:
    decoded = payload.get("decoded") or {}
    info = (decoded.get("data") or {}).get("transactionInfo") or {}
    transaction_id = str(info.get("transactionId") or "")
    kind = event_type.split("/")[0]
    if kind in ("REFUND", "REVOKE", "REFUND_REVERSED"):
        # A refund and its reversal may be processed in either order (each its own task, and
        # Apple retries either): the one Apple signed last decides (processing._older_refund_news).
        signed = decoded.get("signedDate")
        ordered = {REFUND_NEWS_SIGNED: signed} if isinstance(signed, int) else {}
        if kind != "REFUND_REVERSED":
            return Outcome("refund", external_id=transaction_id, note=event_type, details=ordered)
        return Outcome(
            "flag",
            external_id=transaction_id,
            note="Apple reversed a refund: re-grant by hand.",
            details={**ordered, REFUND_UNDONE: True},
        )
    return Outcome("none", note=f"{event_type} needs no action")


def _verifier(*, bundle_id: str, environment: Environment, app_apple_id: int) -> SignedDataVerifier:
    roots = trusted_roots()
    if not roots:
        raise ProviderNotConfigured("APPLE_APP_STORE_ROOT_CERTS is empty: no Apple root to trust.")
    return SignedDataVerifier(
        [root.public_bytes(serialization.Encoding.DER) for root in roots],
        settings.APPLE_APP_STORE_ONLINE_CHECKS,
        environment,
        bundle_id,
        app_apple_id,
    )


def _verified(check: Any, error: type[Exception]) -> None:
    try:
        check()
    except VerificationException as exc:
        if exc.status == VerificationStatus.RETRYABLE_VERIFICATION_FAILURE:
            raise ProviderUnavailable("Apple's certificate status (OCSP) could not be checked.")
        raise error(_WHY.get(exc.status, "The JWS does not verify against Apple's chain."))


_WHY = {
    VerificationStatus.INVALID_APP_IDENTIFIER: "The signed data belongs to another app.",
    VerificationStatus.INVALID_ENVIRONMENT: "The signed data is from another environment.",
    VerificationStatus.INVALID_CHAIN_LENGTH: "Apple signs with a leaf, intermediate and root.",
    VerificationStatus.INVALID_CERTIFICATE: "The JWS carries no usable certificate chain.",
}


def _unverified_claims(token: str, error: type[Exception]) -> dict[str, Any]:
    """The claims, read before the library verifies them, to choose the app and environment
    to verify against; nothing in them is trusted until it has."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError):  # ValueError: text JSON carried, a lone surrogate…
        raise error("Not a JWS.")
    if not isinstance(claims, dict):
        raise error("Not a JWS of a JSON object.")
    return claims


def _environment(
    account: ProviderAccount, environment: object, error: type[Exception]
) -> Environment:
    allowed = {"Production"} | ({"Sandbox"} if _accepts_sandbox(account) else set())
    if not isinstance(environment, str) or environment not in allowed:
        raise error(f"Transactions from the {environment} environment are not accepted here.")
    return SIGNED_ENVIRONMENTS[str(environment)]


def _accepts_sandbox(account: ProviderAccount) -> bool:
    return bool(account.game.sandbox or account.config.get("accept_sandbox"))


def _app_apple_id(account: ProviderAccount) -> int | None:
    value = account.config.get("app_apple_id")
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise ProviderNotConfigured("The App Store account's app_apple_id is not a number.")


def trusted_roots() -> list[x509.Certificate]:
    return _load_roots(tuple(settings.APPLE_APP_STORE_ROOT_CERTS))


@cache
def _load_roots(entries: tuple[str, ...]) -> list[x509.Certificate]:
    """Each entry: a path to a PEM or DER file (AppleRootCA-G3.cer), or the PEM text itself."""
    roots = []
    for entry in entries:
        data = (
            entry.encode() if entry.lstrip().startswith("-----BEGIN") else Path(entry).read_bytes()
        )
        if b"-----BEGIN" in data:
            roots.extend(x509.load_pem_x509_certificates(data))
        else:
            roots.append(x509.load_der_x509_certificate(data))
    return roots
