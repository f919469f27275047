"""A release whose rules read (the resolver serves them) but which the draft cannot hold as
they are (written past the checks: a migration, the shell) is not rolled back to: the copy into
the draft failed on a column (IntegrityError or DataError, a 500 on the panel) or stored an
override the panel refuses, live at the next publish. Refused, nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.remoteconfig.errors import InvalidConfigRule
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.remoteconfig.services import add_override, publish, rollback, set_key
from tests.remoteconfig.test_unreadable_rules import publish_with_a_second_override

pytestmark = pytest.mark.django_db

# Each reads (compiled_rules takes it) but no draft row holds it as the panel would.
UNDRAFTABLE_OVERRIDES = [
    ("min_level", -1),  # a negative level: the column's CHECK (IntegrityError)
    ("max_level", 3_000_000_000),  # past the column (DataError)
    ("min_level", 0),  # the panel takes levels from 1
    ("value", None),  # the column is NOT NULL
    ("platforms", None),
    ("platforms", ["iOS"]),  # a name no client sends (the API reads it in lower case)
    ("rollout_salt", "s" * 65),  # past the column
    ("rollout_salt", None),
    ("min_client_version", None),
    ("segment", "whales"),  # a field the draft has not
]
UNDRAFTABLE_KEYS = [
    ("value", None),
    ("description", None),
    ("description", "d" * 301),
]


def assert_rollback_refused(game, release: ConfigRelease, where: str) -> None:
    set_key(game=game, actor=None, key="shop", value="edited")

    with pytest.raises(InvalidConfigRule) as refused:
        rollback(game=game, actor=None, version=release.version)

    assert where in str(refused.value)
    assert ConfigRelease.objects.filter(game=game).count() == 1
    assert ConfigKey.objects.get(game=game, key="shop").value == "edited"
    assert ConfigOverride.objects.filter(config_key__game=game).count() == 2


@pytest.mark.parametrize(("field", "stored"), UNDRAFTABLE_OVERRIDES)
def test_a_release_with_an_override_the_draft_cannot_hold_is_not_rolled_back_to(
    game, field, stored
):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"][0][field] = stored
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    assert_rollback_refused(game, release, "shop override #0 (")


@pytest.mark.parametrize(("field", "stored"), UNDRAFTABLE_KEYS)
def test_a_release_with_a_key_the_draft_cannot_hold_is_not_rolled_back_to(game, field, stored):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"][field] = stored
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    assert_rollback_refused(game, release, f"shop ({field})")


def test_null_overrides_roll_back_as_no_overrides(game):
    """The resolver reads them as none (compiled_rules); the copy made them a TypeError."""
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"] = None
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    rollback(game=game, actor=None, version=release.version)

    assert ConfigKey.objects.get(game=game, key="shop").value == "classic"
    assert not ConfigOverride.objects.filter(config_key__game=game).exists()
    assert ConfigRelease.objects.filter(game=game).count() == 2


def test_a_release_the_panel_made_rolls_back_with_every_condition(game):
    now = timezone.now().replace(microsecond=0)
    set_key(game=game, actor=None, key="bonus", value=0, description="")
    add_override(
        game=game,
        actor=None,
        key="bonus",
        value=[],
        platforms=["ios", "android"],
        min_client_version="1.4",
        max_client_version="2",
        min_level=1,
        max_level=2_147_483_647,
        payer=False,
        created_after=now - timedelta(days=1),
        created_before=now,
        rollout_percent=0,
        rollout_salt="s" * 64,
    )
    release = publish(game=game, actor=None)
    set_key(game=game, actor=None, key="bonus", value=5)

    rollback(game=game, actor=None, version=release.version)

    override = ConfigOverride.objects.get(config_key__game=game)
    assert (override.value, override.platforms, override.created_before) == (
        [],
        ["ios", "android"],
        now,
    )
    assert ConfigKey.objects.get(game=game, key="bonus").value == 0
