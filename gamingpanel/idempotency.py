"""The Idempotency-Key header every retry-safe write reads (a purchase, a cloud-save write):
one reading of the header, one pair of problems, one request fingerprint. Where an app stores
the first answer for a key is its own business (the purchase row, the save receipt)."""

from __future__ import annotations

import hashlib
import json

from rest_framework.request import Request

from gamingpanel.errors import DomainError

MAX_IDEMPOTENCY_KEY_LENGTH = 150


class IdempotencyKeyRequired(DomainError):
    status, code, title = 400, "idempotency_key_required", "Idempotency-Key header required"


class IdempotencyKeyReused(DomainError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency key reused"


def require_idempotency_key(request: Request) -> str:
    key = optional_idempotency_key(request)
    if key is None:
        raise IdempotencyKeyRequired(_HOW)
    return key


def optional_idempotency_key(request: Request) -> str | None:
    """The key when the header is sent (None when it is not); an empty or too long one is the
    same 400 as a missing required one."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise IdempotencyKeyRequired(_HOW)
    return key


def request_fingerprint(payload: object) -> str:
    """What a key's first request was, to tell a retry from another request under the same key:
    the SHA-256 of the payload as canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_HOW = f"Send an Idempotency-Key header (1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters)."
