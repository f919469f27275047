"""A release's rules as stored (JSON, the draft's shape) and as the resolver takes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from apps.remoteconfig.models import ConfigKey, ConfigOverride
from apps.remoteconfig.resolver import KeyRules, Override, Version, parse_version

OVERRIDE_FIELDS = (
    "value",
    "platforms",
    "min_client_version",
    "max_client_version",
    "min_level",
    "max_level",
    "payer",
    "created_after",
    "created_before",
    "rollout_percent",
    "rollout_salt",
)


def override_snapshot(override: ConfigOverride) -> dict[str, Any]:
    snapshot = {name: getattr(override, name) for name in OVERRIDE_FIELDS}
    for name in ("created_after", "created_before"):
        moment = snapshot[name]
        snapshot[name] = moment.isoformat() if moment is not None else None
    return snapshot


def draft_snapshot(keys: list[ConfigKey]) -> dict[str, Any]:
    """The draft as a release stores it: keys with their default and ordered overrides (the
    keys' overrides prefetched)."""
    return {
        key.key: {
            "value": key.value,
            "description": key.description,
            "overrides": [override_snapshot(o) for o in key.overrides.all()],
        }
        for key in keys
    }


@dataclass(frozen=True)
class Unreadable:
    """An override of a release whose stored conditions do not read as the resolver takes them
    (`fields`: which). They are checked when an override is saved, but a release's rules are
    JSON any writer may have left otherwise (a migration, the shell, an older release)."""

    key: str
    position: int
    fields: tuple[str, ...]


def compiled_rules(snapshot: dict[str, Any]) -> tuple[dict[str, KeyRules], list[Unreadable]]:
    """The rules, less the overrides that do not read (which the list names): such an override
    matches nobody, where a condition read as absent would have matched everybody. A key with
    no value is left out; a key whose overrides are not a list keeps its value alone. Rules that
    are not an object at all serve no key (named as key "", field "rules")."""
    rules: dict[str, KeyRules] = {}
    unreadable: list[Unreadable] = []
    if not isinstance(snapshot, dict):
        return rules, [Unreadable(key="", position=-1, fields=("rules",))]
    for key, entry in snapshot.items():
        if not isinstance(entry, dict) or "value" not in entry:
            # No value to serve: the key is left out (position -1: the key itself).
            unreadable.append(Unreadable(key=key, position=-1, fields=("value",)))
            continue
        listed = entry.get("overrides") or []
        if not isinstance(listed, list):
            unreadable.append(Unreadable(key=key, position=-1, fields=("overrides",)))
            listed = []  # its value still applies, to everybody, as with no override
        overrides = []
        for position, item in enumerate(listed):
            read = _override(item)
            if isinstance(read, Override):
                overrides.append(read)
            else:
                unreadable.append(Unreadable(key=key, position=position, fields=read))
        rules[key] = KeyRules(value=entry["value"], overrides=tuple(overrides))
    return rules, unreadable


def _override(item: object) -> Override | tuple[str, ...]:
    """The override, or the names of the fields that do not read."""
    if not isinstance(item, dict) or "value" not in item:
        return ("value",)
    bad: list[str] = []

    def read(name: str, parse: Callable[[Any], Any], absent: Any = None) -> Any:
        if name not in item:
            return absent
        try:
            return parse(item[name])
        except (TypeError, ValueError):
            bad.append(name)
            return absent

    override = Override(
        value=item["value"],
        platforms=read("platforms", _platforms, frozenset()),
        min_version=read("min_client_version", _version),
        max_version=read("max_client_version", _version),
        min_level=read("min_level", _level),
        max_level=read("max_level", _level),
        payer=read("payer", _payer),
        created_after=read("created_after", _moment),
        created_before=read("created_before", _moment),
        rollout_percent=read("rollout_percent", _percent, 100),
        salt=read("rollout_salt", _salt, ""),
    )
    return tuple(bad) if bad else override


# Each reader takes a stored field as the draft's snapshot writes it (None, or "" for a text
# column left blank: no condition) and raises ValueError or TypeError for anything else.


def _platforms(raw: Any) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ValueError("platforms")
    return frozenset(raw)


def _version(raw: Any) -> Version | None:
    if raw is None or raw == "":
        return None
    version = parse_version(raw)  # TypeError for what is not text
    if version is None:
        raise ValueError("version")
    return version


def _level(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError("level")
    return raw


def _payer(raw: Any) -> bool | None:
    if raw is not None and not isinstance(raw, bool):
        raise ValueError("payer")
    return raw


def _moment(raw: Any) -> datetime | None:
    if raw is None or raw == "":
        return None
    moment = parse_datetime(raw)  # ValueError for a well-formed impossible date
    # Naive: no instant to compare an account's creation with.
    if moment is None or moment.utcoffset() is None:
        raise ValueError("moment")
    return moment


def _percent(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 100:
        raise ValueError("rollout_percent")
    return raw


def _salt(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError("rollout_salt")
    return raw
