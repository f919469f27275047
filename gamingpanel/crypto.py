"""Secrets at rest: Fernet with a key ring from the environment, newest key first."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _key_ring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def key_ring() -> MultiFernet:
    return _key_ring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_json(value: dict[str, Any]) -> str:
    return key_ring().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(key_ring().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("Stored secret cannot be decrypted with the configured keys.") from exc


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (after a new key was put first in FIELD_ENCRYPTION_KEYS)."""
    return key_ring().rotate(token.encode()).decode() if token else token


def mask(secret: str) -> str:
    """What an operator sees of a stored secret: enough to recognise it, not to use it."""
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:2]}••••{secret[-4:]}"
