"""The Idempotency-Key header every retry-safe write reads (a purchase, a cloud-save write):
one reading of the header, one pair of problems, one request fingerprint. Where an app stores
the first answer for a key is its own business (the purchase row, the save receipt)."""

from __future__ import annotations

import hashlib
import json
import re

from rest_framework.request import Request

from gamingpanel.errors import DomainError
from gamingpanel.headers import request_header

MAX_IDEMPOTENCY_KEY_LENGTH = 150
# The one rule for the header, published as it is in the schema of every operation that takes
# it: 1 to 150 printable ASCII characters (what an HTTP field value holds), no space at either
# end.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,148}[!-~])?$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
# HTTP's optional white space around a field value (RFC 9110 5.5): never part of the value.
OWS = " \t"


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
    """The key when the header is sent (None when it is not); one that breaks
    IDEMPOTENCY_KEY_PATTERN (empty, too long, not printable ASCII) is the same 400 as a missing
    required one."""
    raw = request_header(request, "Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip(OWS)
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise IdempotencyKeyRequired(_HOW)
    return key


def request_fingerprint(payload: object) -> str:
    """What a key's first request was, to tell a retry from another request under the same key:
    the SHA-256 of the payload as canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_HOW = (
    f"Send an Idempotency-Key header: 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII "
    "characters (e.g. a UUID)."
)
