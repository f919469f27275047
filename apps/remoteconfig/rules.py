"""A release's rules as stored (JSON, the draft's shape) and as the resolver takes them."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime

from apps.remoteconfig.models import ConfigKey, ConfigOverride
from apps.remoteconfig.resolver import KeyRules, Override, parse_version

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


def compiled_rules(snapshot: dict[str, Any]) -> dict[str, KeyRules]:
    return {
        key: KeyRules(
            value=entry["value"],
            overrides=tuple(_override(item) for item in entry.get("overrides", [])),
        )
        for key, entry in snapshot.items()
    }


def _override(item: dict[str, Any]) -> Override:
    return Override(
        value=item["value"],
        platforms=frozenset(item.get("platforms") or ()),
        min_version=parse_version(item["min_client_version"])
        if item.get("min_client_version")
        else None,
        max_version=parse_version(item["max_client_version"])
        if item.get("max_client_version")
        else None,
        min_level=item.get("min_level"),
        max_level=item.get("max_level"),
        payer=item.get("payer"),
        created_after=parse_datetime(item["created_after"]) if item.get("created_after") else None,
        created_before=parse_datetime(item["created_before"])
        if item.get("created_before")
        else None,
        rollout_percent=item.get("rollout_percent", 100),
        salt=item.get("rollout_salt") or "",
    )
