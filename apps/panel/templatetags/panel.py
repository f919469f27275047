"""Formatting for panel pages: money in minor units, shares, ratios, stored JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template

from apps.audit import diffs
from apps.audit.diffs import FieldChange
from apps.audit.models import AuditLogEntry
from gamingpanel.currencies import minor_units, to_major

register = template.Library()


@register.filter
def money(amount: float | int | None, currency: str) -> str:
    """Minor units of an ISO currency (or plain units of a virtual one) for reading."""
    if amount is None:
        return "–"
    if len(currency) == 3 and currency.isupper():
        return f"{to_major(amount, currency):,.{minor_units(currency)}f} {currency}"
    return f"{amount:,.0f} {currency}" if currency else f"{amount:,.0f}"


@register.filter
def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


@register.filter
def per(total: int, count: int) -> str:
    return f"{total / count:.2f}" if count else "–"


@register.filter
def field_changes(entry: AuditLogEntry) -> list[FieldChange]:
    """An audit entry's before/after as named fields that changed."""
    return diffs.field_changes(entry)


@register.filter
def as_json(value: Any) -> str:
    """A stored JSON value as JSON text (`true`, `null`, double quotes), not Python's repr."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@register.filter
def ban_end(until: datetime | None) -> str:
    """When a ban ends, as people read it: a permanent ban is "permanent"."""
    if until is None:
        return "–"
    return diffs.readable_value("banned_until", until.isoformat())
