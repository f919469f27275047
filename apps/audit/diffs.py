"""An audit entry's before/after as a field-by-field diff people read: names, not keys; dates,
not ISO strings; a permanent ban as "permanent", not the year 9999."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from apps.accounts.models import PERMANENT_BAN_UNTIL
from apps.audit.models import AuditLogEntry

EMPTY = "—"
# Keys whose name alone reads badly; every other key is humanized (ban_reason → Ban reason).
FIELD_NAMES = {
    "banned_until": "Banned until",
    "sku": "SKU",
    "xp": "XP",
    "url": "URL",
    "id": "Id",
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    name: str
    before: str
    after: str


def field_changes(entry: AuditLogEntry) -> list[FieldChange]:
    """Each field that differs between before and after, in a stable order (fields as the
    action recorded them, then any only one side has). An add (nothing before, as the admin's
    admin_add records it) leaves out the fields it left blank: "" and None both read "—", and
    "Ban reason: — → —" says nothing; a value set ("—" itself included) stays."""
    before = entry.before if isinstance(entry.before, dict) else {"value": entry.before}
    after = entry.after if isinstance(entry.after, dict) else {"value": entry.after}
    adding = not before
    keys = list(dict.fromkeys([*before, *after]))
    return [
        FieldChange(
            field=key,
            name=field_name(key),
            before=readable_value(key, before.get(key)),
            after=readable_value(key, after.get(key)),
        )
        for key in keys
        if before.get(key) != after.get(key) and not (adding and _blank(after.get(key)))
    ]


def _blank(value: object) -> bool:
    return value is None or value == ""


def changes_text(entry: AuditLogEntry) -> str:
    """One line for a CSV cell or a list column: "Banned until: — → permanent; …"."""
    return "; ".join(f"{c.name}: {c.before} → {c.after}" for c in field_changes(entry))


def field_name(key: str) -> str:
    return FIELD_NAMES.get(key) or key.replace("_", " ").strip().capitalize()


def readable_value(key: str, value: object) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        moment = _datetime(value)
        if moment is None:
            return value
        if moment.year >= PERMANENT_BAN_UNTIL.year:
            return "permanent"
        return moment.strftime(
            "%Y-%m-%d %H:%M UTC" if moment.utcoffset() is not None else "%Y-%m-%d %H:%M"
        )
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _datetime(text: str) -> datetime | None:
    if len(text) < 19 or text[4] != "-" or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.utcoffset() is not None:
        try:
            moment = moment.astimezone(PERMANENT_BAN_UNTIL.tzinfo)
        except OverflowError:  # "9999-12-31T23:59:59-01:00": text, not a moment UTC can hold
            return None
    return moment
