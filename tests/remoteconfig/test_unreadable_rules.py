"""A stored override condition that does not read (written past the checks: a migration, the
shell, an older release) fails closed: the override matches nobody, rather than everybody, and
is logged once per process, without what was stored."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.remoteconfig import selectors
from apps.remoteconfig.errors import InvalidConfigRule
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.remoteconfig.services import add_override, publish, rollback, set_key
from gamingpanel.shortcache import clear_every_cache
from tests.shop.conftest import access_token, bearer

URL = "/api/v1/config"
pytestmark = pytest.mark.django_db

# Each one would have been read as no condition (so: everybody), or failed every config read
# of the game (a 500) when compared.
UNREADABLE = [
    ("min_client_version", "1.2-secret"),
    ("max_client_version", "v2"),
    ("min_client_version", 2),
    ("created_after", "not a date"),
    ("created_before", "2026-02-30T00:00:00+00:00"),  # well formed, no such day
    ("created_after", "2020-01-01T00:00:00"),  # no time zone: no instant
    ("min_level", "5"),
    ("max_level", 2.5),
    ("min_level", True),
    ("payer", "yes"),
    ("rollout_percent", 150),
    ("rollout_percent", "50"),
    ("rollout_percent", None),
    ("platforms", "ios"),
    ("platforms", [1]),
    ("rollout_salt", 7),
]


@pytest.fixture
def alice(player):
    return bearer(access_token(player))


def publish_with_a_second_override(game) -> ConfigRelease:
    """`shop`: "classic"; override #0 "broken" for everyone on 1.0 and later (the one a test
    breaks), then #1 "fallback" for everyone."""
    set_key(game=game, actor=None, key="shop", value="classic")
    add_override(game=game, actor=None, key="shop", value="broken", min_client_version="1.0")
    add_override(game=game, actor=None, key="shop", value="fallback", position=1)
    release = publish(game=game, actor=None)
    clear_every_cache()
    return release


@pytest.mark.parametrize(("field", "stored"), UNREADABLE)
def test_an_unreadable_condition_in_a_release_matches_nobody(alice, game, field, stored):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"][0][field] = stored
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    for headers in ({}, {"HTTP_X_CLIENT_VERSION": "1.5", "HTTP_X_CLIENT_PLATFORM": "ios"}):
        response = alice.get(URL, **headers)

        assert response.status_code == 200
        assert response.json()["values"] == {"shop": "fallback"}  # never "broken"


def test_an_unreadable_version_bound_saved_on_the_draft_row_applies_to_nobody(alice, game):
    set_key(game=game, actor=None, key="beta", value=False)
    add_override(game=game, actor=None, key="beta", value=True, min_client_version="9.0")
    ConfigOverride.objects.filter(config_key__key="beta").update(min_client_version="9.0-rc1")
    publish(game=game, actor=None)
    clear_every_cache()

    for version in (None, "1.0", "9.0", "10.0"):
        headers = {"HTTP_X_CLIENT_VERSION": version} if version else {}
        assert alice.get(URL, **headers).json()["values"] == {"beta": False}, version


def test_the_bounds_that_read_still_apply(alice, game):
    set_key(game=game, actor=None, key="offer", value="none")
    add_override(
        game=game, actor=None, key="offer", value="new", position=0,
        min_client_version="1.0", max_client_version="2.0", rollout_percent=100,
        created_after=timezone.now() - timedelta(days=1), platforms=["ios"],
    )  # fmt: skip
    publish(game=game, actor=None)
    clear_every_cache()

    assert alice.get(URL, HTTP_X_CLIENT_VERSION="1.5", HTTP_X_CLIENT_PLATFORM="ios").json()[
        "values"
    ] == {"offer": "new"}
    assert alice.get(URL, HTTP_X_CLIENT_VERSION="2.0").json()["values"] == {"offer": "none"}


def test_an_unreadable_override_is_logged_once_without_what_was_stored(alice, game, caplog):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"][0]["min_client_version"] = "1.2-secret"
    rules["shop"]["overrides"][0]["created_before"] = "2026-02-30T00:00:00+00:00"
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    with caplog.at_level(logging.ERROR, logger="apps.remoteconfig.selectors"):
        for _ in range(3):
            alice.get(URL)
            selectors._live.clear()  # the 2 s cache expired: the release is read again

    logged = [r for r in caplog.records if r.name == "apps.remoteconfig.selectors"]
    assert len(logged) == 1
    message = logged[0].getMessage()
    assert "min_client_version, created_before" in message
    assert f"game {game.pk} release {release.version} key 'shop' override #0" in message
    assert "secret" not in message and "2026-02-30" not in message


def test_compiled_rules_name_what_they_leave_out():
    from apps.remoteconfig.rules import Unreadable, compiled_rules

    snapshot = {
        "a": {
            "value": 1,
            "overrides": [
                {"value": 2, "min_level": "x", "payer": 1},
                {"value": 3, "platforms": ["ios"]},
                {"min_level": 3},  # no value
            ],
        }
    }

    rules, unreadable = compiled_rules(snapshot)

    assert [o.value for o in rules["a"].overrides] == [3]
    assert unreadable == [
        Unreadable(key="a", position=0, fields=("min_level", "payer")),
        Unreadable(key="a", position=2, fields=("value",)),
    ]


@pytest.mark.parametrize(
    ("broken", "served", "logged"),
    [
        ({"overrides": []}, {"shop": "classic"}, True),  # no value: the key is left out
        ("just text", {"shop": "classic"}, True),
        ({"value": "plain", "overrides": None}, {"shop": "classic", "theme": "plain"}, False),
        ({"value": "plain", "overrides": {"0": {}}}, {"shop": "classic", "theme": "plain"}, True),
    ],
)
def test_a_key_that_does_not_read_leaves_the_others_served(
    alice, game, broken, served, logged, caplog
):
    set_key(game=game, actor=None, key="shop", value="classic")
    set_key(game=game, actor=None, key="theme", value="dark")
    release = publish(game=game, actor=None)
    ConfigRelease.objects.filter(pk=release.pk).update(rules={**release.rules, "theme": broken})
    clear_every_cache()

    with caplog.at_level(logging.ERROR, logger="apps.remoteconfig.selectors"):
        response = alice.get(URL)

    assert response.status_code == 200
    assert response.json()["values"] == served
    said = [r.getMessage() for r in caplog.records if r.name == "apps.remoteconfig.selectors"]
    assert len(said) == logged  # null overrides are no overrides, as when absent
    assert all("key 'theme' has unreadable" in message for message in said)


@pytest.mark.parametrize(("field", "stored"), UNREADABLE)
def test_a_release_with_an_unreadable_override_is_not_rolled_back_to(game, field, stored):
    """The draft would store it as one that reads (`true` as a 1 % rollout, "5" as level 5),
    live at the next publish; or the copy failed (a 500 on the panel). Refused, nothing
    changed: the draft and the releases stay as they were."""
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"][0][field] = stored
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)
    set_key(game=game, actor=None, key="shop", value="edited")

    with pytest.raises(InvalidConfigRule) as refused:
        rollback(game=game, actor=None, version=release.version)

    assert f"shop override #0 ({field})" in str(refused.value)
    assert ConfigRelease.objects.filter(game=game).count() == 1
    assert ConfigKey.objects.get(game=game, key="shop").value == "edited"
    assert ConfigOverride.objects.filter(config_key__game=game).count() == 2


@pytest.mark.parametrize("stored", [["shop", "classic"], "classic", 7])
def test_a_release_whose_rules_are_not_an_object_serves_no_key_and_says_so(
    alice, game, stored, caplog
):
    """Every config read of the game was a 500 until the next publish."""
    set_key(game=game, actor=None, key="shop", value="classic")
    release = publish(game=game, actor=None)
    ConfigRelease.objects.filter(pk=release.pk).update(rules=stored)
    clear_every_cache()

    with caplog.at_level(logging.ERROR, logger="apps.remoteconfig.selectors"):
        response = alice.get(URL)

    assert response.status_code == 200
    assert response.json()["values"] == {}
    said = [r.getMessage() for r in caplog.records if r.name == "apps.remoteconfig.selectors"]
    assert said == [
        f"remote config: game {game.pk} release {release.version} has rules that are not an "
        "object; it serves no key until a release fixes it"
    ]
