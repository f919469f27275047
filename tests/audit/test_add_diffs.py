"""An admin add's diff lists what the new row was given, not its blank fields: "" and None both
read "—", so a blank field read "Ban reason: — → —" (apps/audit/diffs.py)."""

from __future__ import annotations

from apps.audit.diffs import changes_text, field_changes
from apps.audit.models import AuditLogEntry


def added(after: dict) -> AuditLogEntry:
    return AuditLogEntry(before={}, after=after, action="admin_add", actor_name="olivia")


def test_an_add_leaves_out_the_fields_it_left_blank():
    entry = added({"name": "Gold", "code": "gold", "ban_reason": "", "description": None})

    assert changes_text(entry) == "Name: — → Gold; Code: — → gold"


def test_an_add_keeps_every_value_it_set():
    entry = added({"cap": 0, "enabled": False, "contents": [], "note": "—", "reason": "x"})

    assert [(c.name, c.before, c.after) for c in field_changes(entry)] == [
        ("Cap", "—", "0"),
        ("Enabled", "—", "no"),
        ("Contents", "—", "[]"),
        ("Note", "—", "—"),  # the text an operator typed, not a blank
        ("Reason", "—", "x"),
    ]


def test_a_change_still_lists_a_field_emptied_or_filled():
    entry = AuditLogEntry(
        before={"ban_reason": None, "note": "old"},
        after={"ban_reason": "x", "note": ""},
        action="admin_change",
        actor_name="olivia",
    )

    assert changes_text(entry) == "Ban reason: — → x; Note: old → —"
