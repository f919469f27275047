"""The remote-config resolver: a pure function of a release's rules and what is known of one
player's client. No database, no clock, no randomness: the same rules and context always give
the same values, and a player's rollout bucket is a hash of the salt and the player id."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# ASCII digits only (`\d` would take other scripts' digits too), matched as the whole string.
VERSION = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$")
Version = tuple[int, ...]
# A client platform as the API reads it (any case, matched in lower case) and an override names it.
PLATFORM = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


def parse_version(text: str) -> Version | None:
    """ "1.4.2" -> (1, 4, 2); trailing zeros dropped so 1.4 == 1.4.0; None when not a version."""
    if not VERSION.fullmatch(text):
        return None
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@dataclass(frozen=True)
class Override:
    value: Any
    platforms: frozenset[str] = frozenset()
    min_version: Version | None = None
    max_version: Version | None = None
    min_level: int | None = None
    max_level: int | None = None
    payer: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    rollout_percent: int = 100
    salt: str = ""

    @property
    def needs_level(self) -> bool:
        return self.min_level is not None or self.max_level is not None


@dataclass(frozen=True)
class KeyRules:
    value: Any
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Context:
    """What is known of the caller. None: unknown, and an override that asks about it does not
    match (a version-bound override never reaches a client that sends no version)."""

    player_id: int
    platform: str | None = None
    client_version: Version | None = None
    level: int | None = None
    payer: bool | None = None
    created_at: datetime | None = None


def rollout_bucket(player_id: int, salt: str) -> int:
    """0..99, the same for a player and salt on every call, process and machine."""
    digest = hashlib.sha256(f"{salt}:{player_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def matches(override: Override, context: Context, *, key: str) -> bool:
    if override.platforms and context.platform not in override.platforms:
        return False
    if override.min_version is not None or override.max_version is not None:
        version = context.client_version
        if version is None:
            return False
        if override.min_version is not None and version < override.min_version:
            return False
        if override.max_version is not None and version >= override.max_version:
            return False
    if override.needs_level:
        if context.level is None:
            return False
        if override.min_level is not None and context.level < override.min_level:
            return False
        if override.max_level is not None and context.level > override.max_level:
            return False
    if override.payer is not None and context.payer is not override.payer:
        return False
    if override.created_after is not None or override.created_before is not None:
        created = context.created_at
        if created is None:
            return False
        if override.created_after is not None and created < override.created_after:
            return False
        if override.created_before is not None and created >= override.created_before:
            return False
    if override.rollout_percent < 100:
        return rollout_bucket(context.player_id, override.salt or key) < override.rollout_percent
    return True


def resolve(rules: Mapping[str, KeyRules], context: Context) -> dict[str, Any]:
    """Each key's first matching override's value, else its default; keys in name order."""
    values = {}
    for key in sorted(rules):
        entry = rules[key]
        chosen = next((o for o in entry.overrides if matches(o, context, key=key)), None)
        values[key] = entry.value if chosen is None else chosen.value
    return values


def needed_attributes(rules: Mapping[str, KeyRules]) -> frozenset[str]:
    """Which player attributes the rules ask about ("level", "payer"): the caller loads only
    those (each costs a query)."""
    overrides = [o for entry in rules.values() for o in entry.overrides]
    needed = set()
    if any(o.needs_level for o in overrides):
        needed.add("level")
    if any(o.payer is not None for o in overrides):
        needed.add("payer")
    return frozenset(needed)
