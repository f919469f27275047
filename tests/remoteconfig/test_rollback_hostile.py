"""Hostile releases and override fields the draft cannot hold, refused as invalid_config_rule
with nothing changed: an instant an offset carries out of the calendar in UTC (PostgreSQL
stored it, and every later read of the draft, publish included, was a DataError), a key name
set_key refuses, a description that is not text; and add_override's own check of instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.remoteconfig.errors import InvalidConfigRule
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.remoteconfig.selectors import draft_keys
from apps.remoteconfig.services import add_override, publish, set_key
from tests.remoteconfig.test_rollback_undraftable import assert_rollback_refused
from tests.remoteconfig.test_unreadable_rules import publish_with_a_second_override

pytestmark = pytest.mark.django_db

# Aware and parseable, so the resolver reads them; past the calendar once in UTC.
OUT_OF_CALENDAR = [
    ("created_after", "9999-12-31T23:59:00-05:00"),  # 10000-01-01 04:59 UTC
    ("created_before", "0001-01-01T00:00:00+05:00"),  # 0000-12-31 19:00 UTC
]


@pytest.mark.parametrize(("field", "stored"), OUT_OF_CALENDAR)
def test_a_release_with_an_instant_out_of_the_calendar_in_utc_is_not_rolled_back_to(
    game, field, stored
):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"][0][field] = stored
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    assert_rollback_refused(game, release, "shop override #0 (")

    # The draft still loads, and publishes.
    assert [key.key for key in draft_keys(game_id=game.pk)] == ["shop"]
    assert publish(game=game, actor=None).version == 2


@pytest.mark.parametrize(
    ("field", "stored", "where"),
    [
        ("key", "shop\n", "shop\n (key)"),  # the model's `$` takes a final line feed
        ("description", ["a list"], "shop (description)"),
        ("description", 5, "shop (description)"),
    ],
)
def test_a_release_with_a_key_set_key_refuses_is_not_rolled_back_to(game, field, stored, where):
    release = publish_with_a_second_override(game)
    rules = release.rules
    if field == "key":
        rules[stored] = rules.pop("shop")
    else:
        rules["shop"][field] = stored
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    assert_rollback_refused(game, release, where)
    assert list(ConfigKey.objects.filter(game=game).values_list("key", flat=True)) == ["shop"]


@pytest.mark.parametrize(
    "fields",
    [
        {"created_after": datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=5)))},
        {"created_before": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))},
        # Naive: no instant; beside an aware bound the comparison was a TypeError.
        {
            "created_after": datetime(2026, 1, 1),  # noqa: DTZ001
            "created_before": datetime(2026, 2, 1, tzinfo=UTC),
        },
        {"created_before": datetime(2026, 2, 1)},  # noqa: DTZ001
    ],
)
def test_add_override_refuses_an_instant_no_read_can_load(game, fields):
    set_key(game=game, actor=None, key="shop", value="classic")

    with pytest.raises(InvalidConfigRule):
        add_override(game=game, actor=None, key="shop", value="new", **fields)

    assert not ConfigOverride.objects.filter(config_key__game=game).exists()
    assert [key.key for key in draft_keys(game_id=game.pk)] == ["shop"]
