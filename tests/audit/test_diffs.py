"""Audit entries read as field-by-field changes with names; a permanent ban reads as one."""

from __future__ import annotations

from apps.accounts.models import PERMANENT_BAN_UNTIL
from apps.audit.diffs import changes_text, field_changes
from apps.audit.models import AuditLogEntry


def entry(before, after) -> AuditLogEntry:
    return AuditLogEntry(before=before, after=after, action="player.ban", actor_name="olivia")


def test_only_changed_fields_with_readable_names_and_values():
    changes = field_changes(
        entry(
            {"banned_until": None, "ban_reason": "", "note": "same"},
            {
                "banned_until": PERMANENT_BAN_UNTIL.isoformat(),
                "ban_reason": "cheat",
                "note": "same",
            },
        )
    )
    assert [(c.name, c.before, c.after) for c in changes] == [
        ("Banned until", "—", "permanent"),
        ("Ban reason", "—", "cheat"),
    ]


def test_dates_lists_and_booleans_are_formatted():
    text = changes_text(
        entry(
            {"banned_until": "2027-01-02T03:04:00+00:00", "enabled": True, "contents": []},
            {
                "banned_until": None,
                "enabled": False,
                "contents": [{"currency": "gold", "quantity": 5}],
            },
        )
    )
    assert text == (
        "Banned until: 2027-01-02 03:04 UTC → —; Enabled: yes → no; "
        'Contents: [] → [{"currency": "gold", "quantity": 5}]'
    )


def test_an_entry_with_nothing_changed_has_no_lines():
    assert field_changes(entry({"gold": 5}, {"gold": 5})) == []


def test_text_shaped_like_a_moment_past_the_calendar_reads_as_text():
    # An operator can name a stat or an offer this: in UTC it would be year 10000 or year 0.
    edges = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"]

    text = changes_text(entry({"name": "", "key": ""}, {"name": edges[0], "key": edges[1]}))

    assert edges[0] in text and edges[1] in text
