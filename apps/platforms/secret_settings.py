"""Secrets typed into plain config: found by name, refused when saved, moved, hidden.

A platform credential and a payment account each keep plain settings in `config` (stored and
shown in clear, copied into the audit log) and secrets encrypted. Each verifier and each
payment provider declares which of its settings are which (`SecretSettings`); a key of config
is then a secret when it is declared secret, or when its name looks secret and it is not one of
the declared plain settings (a typo'd or foreign name cannot slip through), or when a key inside
its value does. The model's `clean` refuses those (`config_secret_errors`), a data migration
moved the ones already stored (`move_stored_secrets`), and the audit log hides them
(`hidden_secrets`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Model

from gamingpanel import crypto
from gamingpanel.logging import scrub

logger = logging.getLogger(__name__)

# In a name lower-cased with its separators removed ("Client-Secret" → "clientsecret"): any of
# these anywhere, or one of SECRET_ENDINGS at its end ("publisher_key", "api_key", "pwd").
SECRET_WORDS = (
    "secret",
    "passw",
    "passphrase",
    "privatekey",
    "apikey",
    "token",
    "credential",
)
SECRET_ENDINGS = ("key", "pwd")


def looks_secret(name: str) -> bool:
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    return compact.endswith(SECRET_ENDINGS) or any(word in compact for word in SECRET_WORDS)


@dataclass(frozen=True)
class SecretSettings:
    """What one verifier or provider reads: `plain` from config, `secret` from the secrets.
    A plain name may look secret (PlayStation's `token_url`): declared, it is accepted."""

    plain: frozenset[str] = frozenset()
    secret: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, plain: Iterable[str] = (), secret: Iterable[str] = ()) -> SecretSettings:
        return cls(plain=frozenset(plain), secret=frozenset(secret))

    def holding_secrets(self, config: object) -> dict[str, str]:
        """Each top-level key of `config` that holds a secret, with why (a phrase)."""
        if not isinstance(config, Mapping):
            return {}
        found: dict[str, str] = {}
        for key, value in config.items():
            name = str(key)
            if name in self.secret:
                found[name] = "is a secret"
            elif name in self.plain:
                if nested := next(_secret_paths(value, name), None):
                    found[name] = f"holds {nested}, which looks like a secret"
            elif looks_secret(name):
                found[name] = "looks like a secret"
            elif nested := next(_secret_paths(value, name), None):
                found[name] = f"holds {nested}, which looks like a secret"
        return found


def _secret_paths(value: object, path: str) -> Iterator[str]:
    """Dotted paths of the keys inside `value` (objects in objects or lists) that look secret."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            inner_path = f"{path}.{key}"
            if looks_secret(str(key)):
                yield inner_path
            yield from _secret_paths(inner, inner_path)
    elif isinstance(value, list):
        for inner in value:
            yield from _secret_paths(inner, path)


def _texts(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)


def credential_values(config: object) -> list[str]:
    """Top-level keys whose value holds what the log scrubbing would redact: a private key, a
    JWT, a Stripe key, a password in a URL, `apisecret=` in a query string."""
    if not isinstance(config, Mapping):
        return []
    return [
        str(key)
        for key, value in config.items()
        if any(scrub(text) != text for text in _texts(value))
    ]


WHY_SECRETS = " (encrypted, shown masked), not in config (stored and shown in clear)."


def config_secret_errors(config: object, declared: SecretSettings) -> list[str]:
    """Why `config` may not be saved as it is, one sentence per key; none when it holds no
    secret. For the model's `clean`, as the `config` field's errors."""
    named = declared.holding_secrets(config)
    errors = [f"{key} {why}: enter it under Secrets{WHY_SECRETS}" for key, why in named.items()]
    errors += [
        f"{key}: its value looks like it holds a credential (a private key, a token, a password "
        f"in a URL): keep credentials under Secrets{WHY_SECRETS}"
        for key in credential_values(config)
        if key not in named
    ]
    return errors


HIDDEN = "hidden"


def hidden_secrets(config: object, declared: SecretSettings) -> object:
    """`config` for the audit log: each value that holds a secret replaced by a keyed digest,
    so a change is seen and nothing of the secret is written down (a plain digest of a short
    secret could be checked against guesses by anyone who reads the log)."""
    if not isinstance(config, Mapping):
        return config
    hidden = {*declared.holding_secrets(config), *credential_values(config)}
    return {key: _digest(value) if str(key) in hidden else value for key, value in config.items()}


def _digest(value: object) -> str:
    keyed = hmac.new(settings.SECRET_KEY.encode(), repr(value).encode(), hashlib.sha256)
    return f"{HIDDEN} ({keyed.hexdigest()[:12]})"


FROM_CONFIG = "_from_config"


def moved_out_of_config(
    config: Mapping[str, Any], secrets: Mapping[str, Any], keys: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`config` without `keys`, and `secrets` with each of them: in its own slot where that is
    empty; where the slot already holds another value (which verifiers already read: secrets
    win over config), the config's one is kept beside it as `<key>_from_config`, so nothing is
    lost and nothing stays in clear."""
    plain, secret = dict(config), dict(secrets)
    for key in keys:
        value = plain.pop(key)
        if key not in secret:
            secret[key] = value
            continue
        if secret[key] == value:
            continue
        name, count = f"{key}{FROM_CONFIG}", 1
        while name in secret and secret[name] != value:
            count += 1
            name = f"{key}{FROM_CONFIG}_{count}"
        secret[name] = value
    return plain, secret


def move_stored_secrets(
    model: type[Model], *, kind: str, declared: Callable[[str], SecretSettings]
) -> None:
    """For the data migrations: in each row of `model` (a historical PlatformCredential or
    ProviderAccount: `config`, `secrets_encrypted`, and its platform or provider in `kind`),
    the config keys holding secrets moved into the encrypted secrets (moved_out_of_config). A
    row whose secrets no configured key opens is left as it is and named in a warning: writing
    new secrets would replace ones that may be readable again once their key is back, and its
    owners re-enter them anyway (the admin says so)."""
    row: Any  # a historical model: its fields are not known to the type checker
    for row in model._default_manager.order_by("pk").iterator():
        keys = list(declared(getattr(row, kind)).holding_secrets(row.config))
        if not keys:
            continue
        secrets = crypto.readable_json(row.secrets_encrypted)
        if secrets is None:
            logger.warning(
                "%s %s: config keys %s hold secrets and were left in config: its secrets cannot "
                "be decrypted with FIELD_ENCRYPTION_KEYS; move them in the admin",
                model._meta.verbose_name,
                row.pk,
                ", ".join(keys),
            )
            continue
        row.config, secrets = moved_out_of_config(row.config, secrets, keys)
        row.secrets_encrypted = crypto.encrypt_json(secrets) if secrets else ""
        row.save(update_fields=["config", "secrets_encrypted", "updated_at"])


class WriteOnlyTextarea(forms.Textarea):
    """A secrets input that never renders its value: a form shown again because another field
    was refused must not write the secrets just typed back into the page."""

    def format_value(self, value: Any) -> str | None:
        return None
