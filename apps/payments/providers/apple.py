"""Apple App Store: StoreKit 2 signed transactions and App Store Server Notifications v2 are
JWS (ES256) whose `x5c` header carries the certificate chain; the chain must end at one of the
configured Apple root certificates (APPLE_APP_STORE_ROOT_CERTS)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import InvalidSignature as BadCertificateSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from apps.payments.errors import (
    InvalidNotification,
    InvalidReceipt,
    ProviderNotConfigured,
    ReceiptNotPaid,
)
from apps.payments.models import ProviderAccount
from apps.payments.providers.base import (
    Notification,
    Outcome,
    VerifiedReceipt,
    check_account_token,
)
from gamingpanel.parsers import loads as loads_json

# Apple marks its App Store receipt-signing leaf and its WWDR intermediate with these OIDs.
LEAF_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
INTERMEDIATE_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")


def verify_transaction(
    *, account: ProviderAccount, receipt: object, player_id: int | None = None
) -> VerifiedReceipt:
    """`receipt` is the JWS string of a StoreKit 2 Transaction (`jwsRepresentation`)."""
    if not isinstance(receipt, str):
        raise InvalidReceipt("An App Store receipt is the signed transaction (a JWS string).")
    info = verify_jws(receipt, error=InvalidReceipt)
    bundle_id = account.config.get("bundle_id")
    if not bundle_id:
        raise ProviderNotConfigured("This game's App Store account has no bundle_id.")
    if info.get("bundleId") != bundle_id:
        raise InvalidReceipt("The transaction belongs to another app.")
    _check_environment(account, info.get("environment"), InvalidReceipt)
    if info.get("revocationDate"):
        raise ReceiptNotPaid("Apple revoked or refunded this transaction.")
    if not info.get("transactionId") or not info.get("productId"):
        raise InvalidReceipt("The transaction has no transactionId or productId.")
    check_account_token(info.get("appAccountToken"), player_id=player_id)
    return VerifiedReceipt(
        transaction_id=str(info["transactionId"]),
        product_id=str(info["productId"]),
        payment_reference=str(info.get("originalTransactionId") or ""),
        environment=str(info.get("environment") or ""),
        details={"quantity": info.get("quantity", 1), "purchaseDate": info.get("purchaseDate")},
    )


def parse_notification(*, body: bytes) -> Notification:
    try:
        received = loads_json(body)
        signed = received["signedPayload"]
    except (ValueError, KeyError, TypeError):
        raise InvalidNotification("An App Store notification has a signedPayload.")
    decoded = verify_jws(signed, error=InvalidNotification)
    data = decoded.get("data") or {}
    if signed_transaction := data.get("signedTransactionInfo"):
        data["transactionInfo"] = verify_jws(signed_transaction, error=InvalidNotification)
    account = (
        ProviderAccount.objects.filter(
            provider="apple", enabled=True, config__bundle_id=data.get("bundleId")
        )
        .only("game_id")
        .first()
    )
    event_type = "/".join(filter(None, [decoded.get("notificationType"), decoded.get("subtype")]))
    event_id = decoded.get("notificationUUID")
    if not event_id or not event_type:
        raise InvalidNotification("The notification has no notificationUUID or type.")
    return Notification(
        str(event_id),
        event_type,
        {**received, "decoded": decoded},
        account.game_id if account is not None else None,
    )


def interpret(event_type: str, payload: dict[str, Any]) -> Outcome:
    info = ((payload.get("decoded") or {}).get("data") or {}).get("transactionInfo") or {}
    transaction_id = str(info.get("transactionId") or "")
    kind = event_type.split("/")[0]
    if kind in ("REFUND", "REVOKE"):
        return Outcome("refund", external_id=transaction_id, note=event_type)
    if kind == "REFUND_REVERSED":
        return Outcome(
            "flag", external_id=transaction_id, note="Apple reversed a refund: re-grant by hand."
        )
    return Outcome("none", note=f"{event_type} needs no action")


def verify_jws(token: str, *, error: type[Exception]) -> dict[str, Any]:
    roots = trusted_roots()
    if not roots:
        raise ProviderNotConfigured("APPLE_APP_STORE_ROOT_CERTS is empty: no Apple root to trust.")
    try:
        header = jwt.get_unverified_header(token)
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise error("Not a JWS with an x5c certificate chain.")
    if header.get("alg") != "ES256" or len(chain) < 2:
        raise error("Apple signs with ES256 and a leaf, intermediate and root certificate.")
    _verify_chain(chain, roots, error)
    leaf_key = chain[0].public_key()
    if not isinstance(leaf_key, ec.EllipticCurvePublicKey):
        raise error("The JWS signature does not verify: the leaf's key is not an ES256 key.")
    try:
        return jwt.decode(token, key=leaf_key, algorithms=["ES256"], options={"verify_aud": False})
    except jwt.PyJWTError as exc:
        raise error(f"The JWS signature does not verify: {exc}.")


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


def _verify_chain(
    chain: list[x509.Certificate], roots: list[x509.Certificate], error: type[Exception]
) -> None:
    now = datetime.now(UTC)
    root_prints = {root.fingerprint(hashes.SHA256()) for root in roots}
    # The chain's last certificate must be a trusted root itself, or be issued by one.
    anchor = chain[-1]
    if anchor.fingerprint(hashes.SHA256()) in root_prints:
        links = list(zip(chain, chain[1:], strict=False))
    else:
        issuers = [r for r in roots if r.subject == anchor.issuer]
        if not issuers:
            raise error("The certificate chain does not end at a trusted Apple root.")
        links = [*zip(chain, chain[1:], strict=False), (anchor, issuers[0])]
    for child, parent in links:
        try:
            child.verify_directly_issued_by(parent)
        except (BadCertificateSignature, ValueError, TypeError):
            raise error("A certificate in the chain is not signed by the next one.")
    for cert in chain:
        if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
            raise error("A certificate in the chain is expired or not yet valid.")
    for cert, oid in ((chain[0], LEAF_OID), (chain[1], INTERMEDIATE_OID)):
        try:
            cert.extensions.get_extension_for_oid(oid)
        except x509.ExtensionNotFound:
            raise error("The chain is not Apple's App Store signing chain.")
    try:
        constraints = chain[1].extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise error("The intermediate certificate is not a certificate authority.")


def _check_environment(
    account: ProviderAccount, environment: object, error: type[Exception]
) -> None:
    allowed = {"Production"}
    if account.game.sandbox or account.config.get("accept_sandbox"):
        allowed |= {"Sandbox", "Xcode", "LocalTesting"}
    if environment not in allowed:
        raise error(f"Transactions from the {environment} environment are not accepted here.")
