"""Secrets at rest: Fernet with a key ring from the environment, newest key first."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

if TYPE_CHECKING:
    from django.db.models import Model

logger = logging.getLogger(__name__)

# Every (model, field) that stores text encrypted with this key ring: each app registers its own
# in AppConfig.ready(), so `manage.py rotate_secrets` re-encrypts all of them without importing
# apps above the one it lives in.
_encrypted_fields: list[tuple[type[Model], str]] = []


def register_encrypted_field(model: type[Model], field_name: str) -> None:
    if (model, field_name) not in _encrypted_fields:
        _encrypted_fields.append((model, field_name))


def encrypted_fields() -> list[tuple[type[Model], str]]:
    return list(_encrypted_fields)


@cache
def _key_ring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def key_ring() -> MultiFernet:
    return _key_ring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_json(value: dict[str, Any]) -> str:
    return key_ring().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


class UndecryptableSecret(ValueError):
    """No key of FIELD_ENCRYPTION_KEYS opens it: the key it was written with was removed."""


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(key_ring().decrypt(token.encode()))
    except InvalidToken as exc:
        raise UndecryptableSecret(
            "Stored secret cannot be decrypted with the configured keys."
        ) from exc


# What a page shows of secrets no configured key opens.
UNREADABLE = (
    "Cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS (the key they were written "
    "with was removed): enter every secret again."
)


def stored_secrets(token: str, *, owner: str, refused: Exception) -> dict[str, Any]:
    """decrypt_json for a row's secrets at the moment they are needed; with no key to open
    them, an ALERT naming `owner` (what holds them), then `refused` (what the caller answers)."""
    try:
        return decrypt_json(token)
    except UndecryptableSecret:
        logger.error(
            "ALERT %s: its secrets cannot be decrypted with FIELD_ENCRYPTION_KEYS (the key "
            "they were written with was removed); enter them again in the admin",
            owner,
        )
        raise refused from None


def readable_json(token: str) -> dict[str, Any] | None:
    """decrypt_json, or None when no configured key opens it (for pages that show or replace
    stored secrets, where an unreadable one must not stop the operator re-entering it)."""
    try:
        return decrypt_json(token)
    except UndecryptableSecret:
        return None


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (after a new key was put first in FIELD_ENCRYPTION_KEYS)."""
    return key_ring().rotate(token.encode()).decode() if token else token


def mask(secret: str) -> str:
    """What an operator sees of a stored secret: enough to recognise it, not to use it."""
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:2]}••••{secret[-4:]}"
