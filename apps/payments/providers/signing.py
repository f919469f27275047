"""The `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">` signature scheme of Stripe webhooks,
also used by the sandbox processor for its own callbacks."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

from apps.payments.errors import InvalidSignature


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(*, secrets: Iterable[str], body: bytes, header: str, tolerance: int) -> str:
    """Return the secret that signed `body`; raise InvalidSignature otherwise."""
    timestamp, signatures = _parse(header)
    if abs(time.time() - timestamp) > tolerance:
        raise InvalidSignature("The signature's timestamp is outside the tolerance.")
    for secret in secrets:
        expected = _digest(secret, timestamp, body)
        if any(hmac.compare_digest(expected, given) for given in signatures):
            return secret
    raise InvalidSignature("No signature matches the payload.")


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value and value.isascii():
            # hmac.compare_digest refuses text beyond ASCII (TypeError, a 500): a header's
            # bytes arrive as latin-1 text, and a hex digest is ASCII, so such a value is none.
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature("The signature header is missing or malformed.")
    return timestamp, signatures


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
