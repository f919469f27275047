"""The timestamps hot bodies answer (`api_base.TIMESTAMP`): DRF's DateTimeField rendering,
remembered per instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

import pytest
from rest_framework import serializers

from apps.accounts import api_base
from apps.accounts.api_base import RememberedTimestamp

DRF = serializers.DateTimeField()
VALUES = [
    datetime(2026, 12, 7, 15, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 7, 15, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 7, 16, 0, 0, 60, tzinfo=timezone(timedelta(hours=1))),  # the same hour
    datetime(2026, 12, 7, 15, 0, 0, 60, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 1, 1),  # naive: read as UTC
    None,
    "2026-01-01T00:00:00Z",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_value_renders_as_drf_renders_it_first_and_then(value):
    kept = RememberedTimestamp()
    for _ in range(2):
        assert kept.to_representation(value) == DRF.to_representation(value)


def test_one_memo_keeps_every_value_apart():
    kept = RememberedTimestamp()
    for _ in range(2):
        assert [kept.to_representation(v) for v in VALUES] == [
            DRF.to_representation(v) for v in VALUES
        ]


def test_drf_renders_each_instant_once():
    kept = RememberedTimestamp()
    moment = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    with mock.patch.object(
        serializers.DateTimeField,
        "to_representation",
        autospec=True,
        side_effect=serializers.DateTimeField.to_representation,
    ) as drf:
        for _ in range(5):
            kept.to_representation(moment)
            kept.to_representation(moment + timedelta(seconds=1))
    assert drf.call_count == 2


def test_the_memo_holds_at_most_its_bound(monkeypatch):
    monkeypatch.setattr(api_base, "REMEMBERED_TIMESTAMPS", 8)
    kept = RememberedTimestamp()
    start = datetime(2026, 12, 7, tzinfo=UTC)
    for n in range(30):
        moment = start + timedelta(seconds=n)
        assert kept.to_representation(moment) == DRF.to_representation(moment)
        assert len(kept._rendered) <= 8
