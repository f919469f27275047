"""Remote config has size limits, counted as PostgreSQL keeps the JSON (stored_json): a value (a
key's default, an override's) at most REMOTE_CONFIG_MAX_VALUE_BYTES, the whole draft as publish
stores it at most REMOTE_CONFIG_MAX_RELEASE_BYTES. Unbounded, a draft too large for jsonb made
publish a 500, and every client's GET config serialised whatever was published. Each way a value
is set refuses one past a limit (`invalid_config_rule`, saying which limit), and nothing changes:
set_key, add_override, the panel's forms, publish (a draft from before a lowered limit) and
rollback (a release the draft cannot take). A limit below 1 is refused at start."""

from __future__ import annotations

import pytest

from apps.accounts.models import GameAccess
from apps.audit.models import AuditLogEntry
from apps.remoteconfig.errors import InvalidConfigRule
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.remoteconfig.rules import draft_snapshot
from apps.remoteconfig.selectors import draft_keys
from apps.remoteconfig.services import add_override, publish, rollback, set_key
from gamingpanel.storable import stored_json
from tests.foundation.probe import configured, refusal
from tests.panel.confirming import confirm
from tests.panel.conftest import client_for, make_user
from tests.remoteconfig.test_rollback_undraftable import assert_rollback_refused
from tests.remoteconfig.test_unreadable_rules import publish_with_a_second_override

VALUE_LIMIT = 100


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.REMOTE_CONFIG_MAX_VALUE_BYTES = VALUE_LIMIT
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = 10_000
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def text(size: int) -> str:
    """A string `size` bytes long as stored (its quotes included)."""
    return "x" * (size - 2)


def draft_size(game) -> int:
    return stored_json(draft_snapshot(draft_keys(game_id=game.pk)))[1]


def refused(call, **kwargs) -> str:
    with pytest.raises(InvalidConfigRule) as error:
        call(**kwargs)
    assert error.value.code == "invalid_config_rule"
    return str(error.value.detail)


# set_key and add_override


@pytest.mark.django_db
def test_a_value_at_the_limit_is_set_and_one_byte_more_is_refused(game):
    set_key(game=game, actor=None, key="motd", value=text(VALUE_LIMIT))

    detail = refused(set_key, game=game, actor=None, key="motd", value=text(VALUE_LIMIT + 1))

    assert "The value of motd" in detail and "101 bytes" in detail
    assert "REMOTE_CONFIG_MAX_VALUE_BYTES" in detail
    assert ConfigKey.objects.get(game=game).value == text(VALUE_LIMIT)
    assert AuditLogEntry.objects.filter(action="remoteconfig.set_key").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        [1e308, 1e308],  # 17 bytes sent, each number kept as its 309 digits
        "é" * 50,  # 52 characters, 102 bytes in UTF-8
        {"k": [1] * 48},  # JSON's own punctuation counts
    ],
    ids=["exponents", "utf8", "punctuation"],
)
def test_a_value_is_counted_as_stored_not_as_sent(game, value):
    assert refused(set_key, game=game, actor=None, key="motd", value=value)
    assert not ConfigKey.objects.filter(game=game).exists()


@pytest.mark.django_db
def test_an_override_value_past_the_limit_is_refused(game):
    set_key(game=game, actor=None, key="motd", value="hi")
    add_override(game=game, actor=None, key="motd", value=text(VALUE_LIMIT), platforms=["ios"])

    detail = refused(add_override, game=game, actor=None, key="motd", value=text(VALUE_LIMIT + 1))

    assert "The override's value" in detail and "REMOTE_CONFIG_MAX_VALUE_BYTES" in detail
    assert ConfigOverride.objects.filter(config_key__game=game).count() == 1


@pytest.mark.django_db
def test_a_key_growing_the_draft_past_the_release_limit_is_refused(game, settings):
    set_key(game=game, actor=None, key="a", value=text(VALUE_LIMIT))
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = draft_size(game)  # full

    new_key = refused(set_key, game=game, actor=None, key="b", value=1)
    longer_description = refused(
        set_key, game=game, actor=None, key="a", value=text(VALUE_LIMIT), description="more"
    )

    assert "The draft would be" in new_key and "REMOTE_CONFIG_MAX_RELEASE_BYTES" in new_key
    assert longer_description.startswith("The draft would be")
    assert list(ConfigKey.objects.filter(game=game).values_list("key", "description")) == [
        ("a", "")
    ]
    assert AuditLogEntry.objects.filter(action="remoteconfig.set_key").count() == 1


@pytest.mark.django_db
def test_a_draft_past_a_lowered_release_limit_may_still_shrink_never_grow(game, settings):
    set_key(game=game, actor=None, key="a", value=text(VALUE_LIMIT))
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = draft_size(game) - 20

    set_key(game=game, actor=None, key="a", value=text(VALUE_LIMIT - 10))  # still past: shrinks
    set_key(game=game, actor=None, key="a", value="y" * (VALUE_LIMIT - 12))  # the same size
    detail = refused(set_key, game=game, actor=None, key="a", value=text(VALUE_LIMIT - 5))

    assert detail.startswith("The draft would be")
    assert ConfigKey.objects.get(game=game).value == "y" * (VALUE_LIMIT - 12)


@pytest.mark.django_db
def test_an_override_growing_the_draft_past_the_release_limit_is_refused(game, settings):
    set_key(game=game, actor=None, key="a", value=text(VALUE_LIMIT))
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = draft_size(game) + 50

    detail = refused(add_override, game=game, actor=None, key="a", value=text(VALUE_LIMIT))

    assert detail.startswith("The draft would be") and "REMOTE_CONFIG_MAX_RELEASE_BYTES" in detail
    assert not ConfigOverride.objects.filter(config_key__game=game).exists()
    assert not AuditLogEntry.objects.filter(action="remoteconfig.add_override").exists()


# publish


@pytest.mark.django_db
def test_a_draft_past_the_release_limit_is_not_published(game, settings):
    set_key(game=game, actor=None, key="a", value=text(VALUE_LIMIT))
    add_override(game=game, actor=None, key="a", value=text(VALUE_LIMIT))
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = draft_size(game) - 1  # lowered since

    detail = refused(publish, game=game, actor=None)

    assert detail.startswith("The draft is") and "REMOTE_CONFIG_MAX_RELEASE_BYTES" in detail
    assert not ConfigRelease.objects.filter(game=game).exists()
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = draft_size(game)
    assert publish(game=game, actor=None).version == 1


@pytest.mark.django_db
def test_a_draft_with_a_value_past_a_lowered_limit_is_not_published(game, settings):
    set_key(game=game, actor=None, key="a", value=text(VALUE_LIMIT))
    add_override(game=game, actor=None, key="a", value="small")
    add_override(game=game, actor=None, key="a", value=text(VALUE_LIMIT), position=1)
    settings.REMOTE_CONFIG_MAX_VALUE_BYTES = VALUE_LIMIT - 1

    detail = refused(publish, game=game, actor=None)

    assert "a (value of 100 bytes" in detail and "a override #1 (value of 100 bytes" in detail
    assert "override #0" not in detail
    assert not ConfigRelease.objects.filter(game=game).exists()


# rollback


@pytest.mark.django_db
def test_a_release_with_a_value_past_the_limit_is_not_rolled_back_to(game):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["value"] = text(VALUE_LIMIT + 1)
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    assert_rollback_refused(game, release, "shop (value of 101 bytes as stored")


@pytest.mark.django_db
def test_a_release_with_an_override_value_past_the_limit_is_not_rolled_back_to(game):
    release = publish_with_a_second_override(game)
    rules = release.rules
    rules["shop"]["overrides"][1]["value"] = text(VALUE_LIMIT + 1)
    ConfigRelease.objects.filter(pk=release.pk).update(rules=rules)

    assert_rollback_refused(game, release, "shop override #1 (The override's value: a value of")


@pytest.mark.django_db
def test_a_release_past_the_release_limit_is_not_rolled_back_to(game, settings):
    release = publish_with_a_second_override(game)
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = stored_json(release.rules)[1] - 1

    assert_rollback_refused(game, release, "the whole release: ")


@pytest.mark.django_db
def test_a_release_at_the_limits_is_rolled_back_to(game, settings):
    release = publish_with_a_second_override(game)
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = stored_json(release.rules)[1]
    set_key(game=game, actor=None, key="shop", value="edited")

    assert rollback(game=game, actor=None, version=release.version).rolled_back_to == 1


# The panel's forms


@pytest.fixture
def operator_client(game):
    return client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))


def config(game, action: str = "") -> str:
    return f"/panel/games/{game.pk}/config/{action}"


@pytest.mark.django_db
def test_the_panel_refuses_a_key_value_past_the_limit(operator_client, game):
    response = operator_client.post(
        config(game, "set-key"), {"key": "motd", "value": f'"{text(VALUE_LIMIT + 1)}"'},
        follow=True,
    )  # fmt: skip

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing changed: The value of motd: a value of 101 bytes" in html
    assert "REMOTE_CONFIG_MAX_VALUE_BYTES" in html
    assert not ConfigKey.objects.filter(game=game).exists()


@pytest.mark.django_db
def test_the_panel_refuses_an_override_value_past_the_limit(operator_client, game):
    set_key(game=game, actor=None, key="motd", value="hi")

    response = operator_client.post(
        config(game, "add-override"),
        {"key": "motd", "position": 0, "value": "[" + "1," * 49 + "1]",  # 101 bytes
         "rollout_percent": 100, "payer": "unknown"},
        follow=True,
    )  # fmt: skip

    assert "REMOTE_CONFIG_MAX_VALUE_BYTES" in response.content.decode()
    assert not ConfigOverride.objects.filter(config_key__game=game).exists()


@pytest.mark.django_db
def test_the_panel_refuses_to_publish_a_draft_past_the_release_limit(
    operator_client, game, settings
):
    set_key(game=game, actor=None, key="motd", value=text(VALUE_LIMIT))
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = draft_size(game) - 1

    response = operator_client.post(config(game, "publish"), {"note": "big"}, follow=True)

    html = response.content.decode()
    assert "Nothing changed: The draft is" in html and "REMOTE_CONFIG_MAX_RELEASE_BYTES" in html
    assert not ConfigRelease.objects.filter(game=game).exists()


@pytest.mark.django_db
def test_the_panel_refuses_to_roll_back_to_a_release_past_the_limit(
    operator_client, game, settings
):
    release = publish_with_a_second_override(game)
    set_key(game=game, actor=None, key="shop", value="edited")
    publish(game=game, actor=None)
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = stored_json(release.rules)[1] - 1

    response = confirm(
        operator_client, config(game, "rollback"), {"version": release.version}, follow=True
    )

    html = response.content.decode()
    assert "Nothing changed: Release 1 holds rules the draft cannot take" in html
    assert "the whole release: " in html and "REMOTE_CONFIG_MAX_RELEASE_BYTES" in html
    assert ConfigRelease.objects.filter(game=game).count() == 2
    assert ConfigKey.objects.get(game=game, key="shop").value == "edited"


# Settings


@pytest.mark.parametrize(
    "name", ["REMOTE_CONFIG_MAX_VALUE_BYTES", "REMOTE_CONFIG_MAX_RELEASE_BYTES"]
)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_limit_below_1_is_refused_at_start(name, value):
    refused_at_start = refusal(**{name: value})

    assert refused_at_start is not None and "ImproperlyConfigured" in refused_at_start
    assert name in refused_at_start


def test_the_default_limits():
    assert configured(
        "[settings.REMOTE_CONFIG_MAX_VALUE_BYTES, settings.REMOTE_CONFIG_MAX_RELEASE_BYTES]"
    ) == [65_536, 1_048_576]
