"""The resolver is a pure function: the same rules and context give the same values, always."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.remoteconfig.resolver import (
    Context,
    KeyRules,
    Override,
    matches,
    needed_attributes,
    parse_version,
    resolve,
    rollout_bucket,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)


def ctx(**given) -> Context:
    return Context(**{"player_id": 7, **given})


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("1", (1,)),
        ("1.4.2", (1, 4, 2)),
        ("1.4.0", (1, 4)),
        ("1.4", (1, 4)),
        ("2.0.0.0", (2,)),
        ("0.9.10", (0, 9, 10)),
        ("", None),
        ("1.4.2-beta", None),
        ("v1.4", None),
        ("1..2", None),
        ("1.2.3.4.5", None),
        ("1234567", None),
    ],
)
def test_versions_parse_to_comparable_tuples(text, parsed):
    assert parse_version(text) == parsed


def test_version_order_is_numeric_not_textual():
    assert parse_version("1.10") > parse_version("1.9")
    assert parse_version("1.4") == parse_version("1.4.0")


def test_no_override_gives_the_default():
    rules = {"speed": KeyRules(value=1)}

    assert resolve(rules, ctx()) == {"speed": 1}


def test_first_matching_override_wins_in_order():
    rules = {
        "speed": KeyRules(
            value=1,
            overrides=(
                Override(value=2, platforms=frozenset({"ios"})),
                Override(value=3),  # everyone else
                Override(value=4),
            ),
        )
    }

    assert resolve(rules, ctx(platform="ios")) == {"speed": 2}
    assert resolve(rules, ctx(platform="android")) == {"speed": 3}
    assert resolve(rules, ctx()) == {"speed": 3}


@pytest.mark.parametrize(
    ("platform", "expected"), [("ios", True), ("android", True), ("windows", False), (None, False)]
)
def test_platforms(platform, expected):
    override = Override(value=0, platforms=frozenset({"ios", "android"}))

    assert matches(override, ctx(platform=platform), key="k") is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.3.9", False),
        ("1.4", True),  # min is inclusive
        ("1.4.0", True),
        ("1.9.99", True),
        ("2.0", False),  # max is exclusive
        ("2.1", False),
        (None, False),  # unknown version: a bounded override does not apply
    ],
)
def test_client_version_range(version, expected):
    override = Override(value=0, min_version=(1, 4), max_version=(2,))
    parsed = parse_version(version) if version else None

    assert matches(override, ctx(client_version=parsed), key="k") is expected


def test_open_ended_version_bounds():
    at_least = Override(value=0, min_version=(2,))
    below = Override(value=0, max_version=(2,))

    assert matches(at_least, ctx(client_version=(3,)), key="k")
    assert not matches(at_least, ctx(client_version=(1, 9)), key="k")
    assert matches(below, ctx(client_version=(1, 9)), key="k")
    assert not matches(below, ctx(client_version=(2,)), key="k")


@pytest.mark.parametrize(
    ("level", "expected"), [(4, False), (5, True), (10, True), (11, False), (None, False)]
)
def test_level_range_is_inclusive(level, expected):
    override = Override(value=0, min_level=5, max_level=10)

    assert matches(override, ctx(level=level), key="k") is expected


@pytest.mark.parametrize(
    ("wanted", "payer", "expected"),
    [(True, True, True), (True, False, False), (False, False, True), (False, True, False),
     (True, None, False), (False, None, False)],
)  # fmt: skip
def test_payer(wanted, payer, expected):
    assert matches(Override(value=0, payer=wanted), ctx(payer=payer), key="k") is expected


@pytest.mark.parametrize(
    ("created", "expected"),
    [(datetime(2025, 12, 31, tzinfo=UTC), False), (JAN, True), (JUN, False), (None, False)],
)
def test_created_after_inclusive_before_exclusive(created, expected):
    override = Override(value=0, created_after=JAN, created_before=JUN)

    assert matches(override, ctx(created_at=created), key="k") is expected


def test_every_condition_must_hold():
    override = Override(value=0, platforms=frozenset({"ios"}), min_level=3, payer=True)

    assert matches(override, ctx(platform="ios", level=3, payer=True), key="k")
    assert not matches(override, ctx(platform="ios", level=3, payer=False), key="k")
    assert not matches(override, ctx(platform="android", level=3, payer=True), key="k")


def test_rollout_bucket_is_stable_and_spread():
    assert rollout_bucket(42, "salt") == rollout_bucket(42, "salt")
    buckets = [rollout_bucket(player, "speed") for player in range(10_000)]
    assert all(0 <= b < 100 for b in buckets)
    share = sum(b < 25 for b in buckets) / len(buckets)
    assert 0.22 < share < 0.28  # a quarter of the players, give or take


def test_rollout_keeps_players_in_as_the_percentage_grows():
    def rolled(percent: int) -> set[int]:
        override = Override(value=0, rollout_percent=percent)
        return {p for p in range(2000) if matches(override, ctx(player_id=p), key="speed")}

    ten, fifty, everyone = rolled(10), rolled(50), rolled(100)
    assert ten < fifty < everyone and len(everyone) == 2000
    assert rolled(0) == set()


def test_rollout_salt_defaults_to_the_key_and_a_new_salt_draws_new_buckets():
    players = range(2000)
    by_key = {
        p for p in players if matches(Override(0, rollout_percent=30), ctx(player_id=p), key="a")
    }
    same = {
        p
        for p in players
        if matches(Override(0, rollout_percent=30, salt="a"), ctx(player_id=p), key="other")
    }
    other = {
        p
        for p in players
        if matches(Override(0, rollout_percent=30, salt="b"), ctx(player_id=p), key="a")
    }

    assert by_key == same
    assert by_key != other


def test_resolve_is_deterministic_and_ordered_by_key():
    rules = {
        "b": KeyRules(value=[1], overrides=(Override(value=[2], rollout_percent=50),)),
        "a": KeyRules(value={"x": 1}),
    }
    context = ctx(player_id=123)

    first = resolve(rules, context)
    assert list(first) == ["a", "b"]
    assert all(resolve(rules, context) == first for _ in range(20))


def test_needed_attributes_name_only_what_the_rules_ask():
    plain = {"k": KeyRules(1, (Override(2, platforms=frozenset({"ios"})),))}
    by_level = {"k": KeyRules(1, (Override(2, min_level=3),))}
    by_payer = {"k": KeyRules(1, (Override(2, payer=False),))}

    assert needed_attributes(plain) == frozenset()
    assert needed_attributes(by_level) == {"level"}
    assert needed_attributes(by_payer) == {"payer"}
    assert needed_attributes({**by_level, "j": by_payer["k"]}) == {"level", "payer"}
