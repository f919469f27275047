"""Operators edit remote config in the panel: draft, publish, history, rollback; analysts read."""

from __future__ import annotations

import json

import pytest

from apps.accounts.models import GameAccess
from apps.audit.models import AuditLogEntry
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from gamingpanel.shortcache import clear_every_cache
from tests.panel.confirming import confirm
from tests.panel.conftest import client_for, make_user
from tests.shop.conftest import access_token, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page(game) -> str:
    return f"/panel/games/{game.pk}/config/"


@pytest.fixture
def operator_client(game):
    return client_for(make_user("oscar", game, GameAccess.Role.OPERATOR))


def test_an_operator_drafts_publishes_and_players_get_it(operator_client, game, player):
    operator_client.post(page(game) + "set-key", {"key": "speed", "value": "1.5"})
    operator_client.post(
        page(game) + "add-override",
        {"key": "speed", "position": 0, "value": "2", "platforms": "iOS, android",
         "rollout_percent": 100, "payer": "unknown"},
    )  # fmt: skip
    response = operator_client.post(page(game) + "publish", {"note": "faster on mobile"})

    assert response.status_code == 302
    override = ConfigOverride.objects.get()
    assert override.platforms == ["ios", "android"] and override.payer is None
    release = ConfigRelease.objects.get(game=game)
    assert release.note == "faster on mobile" and release.published_by.username == "oscar"
    clear_every_cache()
    client = bearer(access_token(player))
    assert client.get("/api/v1/config", HTTP_X_CLIENT_PLATFORM="ios").json() == {
        "version": 1,
        "values": {"speed": 2},
    }
    html = operator_client.get(page(game)).content.decode()
    assert "speed" in html and "faster on mobile" in html
    assert set(AuditLogEntry.objects.filter(game=game).values_list("action", flat=True)) == {
        "remoteconfig.set_key",
        "remoteconfig.add_override",
        "remoteconfig.publish",
    }


def test_rollback_from_the_history(operator_client, game):
    for value in ("1", "2"):
        operator_client.post(page(game) + "set-key", {"key": "speed", "value": value})
        operator_client.post(page(game) + "publish", {"note": f"speed {value}"})

    confirm(operator_client, page(game) + "rollback", {"version": 1, "note": "too fast"})

    live = ConfigRelease.objects.filter(game=game).first()
    assert (live.version, live.rolled_back_to, live.rules["speed"]["value"]) == (3, 1, 1)
    assert ConfigKey.objects.get(game=game).value == 1
    assert AuditLogEntry.objects.filter(action="remoteconfig.rollback").count() == 1


@pytest.mark.parametrize(("published", "drafted"), [("1", "true"), ("[1]", "[true]"), ("0", "0.0")])
def test_a_draft_value_equal_only_in_python_is_an_unpublished_change(
    operator_client, game, published, drafted
):
    operator_client.post(page(game) + "set-key", {"key": "speed", "value": published})
    operator_client.post(page(game) + "publish", {"note": "first"})
    operator_client.post(page(game) + "set-key", {"key": "speed", "value": drafted})

    assert 'id="unpublished"' in operator_client.get(page(game)).content.decode()


def test_a_rollback_keeps_the_unpublished_draft_it_replaces_in_the_audit(operator_client, game):
    for value in ("1", "2"):
        operator_client.post(page(game) + "set-key", {"key": "speed", "value": value})
        operator_client.post(page(game) + "publish", {"note": f"speed {value}"})
    assert 'id="unpublished"' not in operator_client.get(page(game)).content.decode()
    operator_client.post(page(game) + "set-key", {"key": "wip", "value": '{"boss": 3}'})

    html = operator_client.get(page(game)).content.decode()
    confirm(operator_client, page(game) + "rollback", {"version": 1, "note": "too fast"})

    assert 'id="unpublished"' in html  # the page said what a rollback would replace
    assert not ConfigKey.objects.filter(game=game, key="wip").exists()
    entry = AuditLogEntry.objects.get(action="remoteconfig.rollback")
    assert entry.before["draft"]["wip"]["value"] == {"boss": 3}
    assert entry.before["draft"]["speed"]["value"] == 2


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("set-key", {"key": "speed", "value": "not json"}),
        ("set-key", {"key": "speed", "value": "   "}),
        ("set-key", {"key": "speed", "value": "null"}),
        ("set-key", {"key": "speed", "value": "NaN"}),
        ("set-key", {"key": "speed", "value": '{"a": [1, Infinity]}'}),
        ("set-key", {"key": "speed", "value": '{"a": "x\\u0000"}'}),
        ("set-key", {"key": "speed", "value": '["\\ud800"]'}),
        ("set-key", {"key": "speed", "value": "[" * 100_000}),
        ("set-key", {"key": "speed", "value": "1e400"}),
        ("set-key", {"key": "speed", "value": "[" * 65 + "]" * 65}),
        ("add-override", {"key": "speed", "position": 0, "value": "[-1e999]",
                          "rollout_percent": 100}),
        ("add-override", {"key": "speed", "position": 0, "value": "1", "rollout_percent": 100,
                          "min_level": 3_000_000_000}),
        ("add-override", {"key": "speed", "position": 0, "value": "1", "rollout_percent": 100,
                          "platforms": "ios!"}),
        ("add-override", {"key": "speed", "position": 0, "value": "1", "rollout_percent": 100,
                          "platforms": "play station"}),
        ("add-override", {"key": "speed", "position": 0, "value": "-Infinity",
                          "rollout_percent": 100}),
        ("set-key", {"key": "bad key", "value": "1"}),
        ("add-override", {"key": "missing", "position": 0, "value": "1", "rollout_percent": 100}),
        ("add-override", {"key": "speed", "position": 0, "value": "1", "rollout_percent": 100,
                          "min_client_version": "2.0", "max_client_version": "1.0"}),
        ("add-override", {"key": "speed", "position": 0, "value": "1", "rollout_percent": 101}),
        ("rollback", {"version": 7}),
    ],
)  # fmt: skip
def test_bad_forms_change_nothing(operator_client, game, action, form):
    operator_client.post(page(game) + "set-key", {"key": "speed", "value": "1"})
    before = AuditLogEntry.objects.count()

    response = operator_client.post(page(game) + action, form, follow=True)

    assert "Nothing changed" in response.content.decode()
    assert AuditLogEntry.objects.count() == before
    assert ConfigKey.objects.get().value == 1 and not ConfigOverride.objects.exists()
    assert not ConfigRelease.objects.exists()


@pytest.mark.parametrize("value", ["[]", "{}", '""', "0", "false"])
def test_every_json_value_is_a_value_falsy_ones_too(operator_client, game, value):
    operator_client.post(page(game) + "set-key", {"key": "flag", "value": value})
    operator_client.post(
        page(game) + "add-override",
        {"key": "flag", "position": 0, "value": value, "rollout_percent": 100, "payer": "unknown"},
    )

    key = ConfigKey.objects.get(game=game, key="flag")
    assert key.value == json.loads(value)
    assert key.overrides.get().value == json.loads(value)


def test_an_analyst_reads_but_cannot_change(game):
    client = client_for(make_user("anna", game, GameAccess.Role.ANALYST))

    assert client.get(page(game)).status_code == 200
    assert client.post(page(game) + "set-key", {"key": "k", "value": "1"}).status_code == 403
    assert not ConfigKey.objects.exists()


def test_another_games_operator_gets_404(game, other_game):
    client = client_for(make_user("bob", other_game, GameAccess.Role.OPERATOR))

    assert client.get(page(game)).status_code == 404
    assert client.post(page(game) + "publish", {}).status_code == 404
    assert not ConfigRelease.objects.exists()


def test_values_show_as_json_and_the_history_shows_what_each_release_held(operator_client, game):
    operator_client.post(page(game) + "set-key", {"key": "flag", "value": "true"})
    operator_client.post(page(game) + "set-key", {"key": "shop", "value": '{"layout": null}'})
    operator_client.post(page(game) + "publish", {"note": "first"})
    operator_client.post(page(game) + "set-key", {"key": "flag", "value": "false"})
    operator_client.post(page(game) + "publish", {"note": "second"})

    html = operator_client.get(page(game)).content.decode()

    assert "<code>false</code>" in html and "True" not in html and "None" not in html
    assert "<code>{&quot;layout&quot;: null}</code>" in html
    history = html[html.index('id="releases"') :]
    assert history.count("<code>flag</code> = <code>true</code>") == 1  # release 1
    assert history.count("<code>flag</code> = <code>false</code>") == 1  # release 2, live
    assert "2 keys" in history


def test_the_audit_keeps_an_overrides_position_and_what_a_key_deletion_took(operator_client, game):
    operator_client.post(page(game) + "set-key", {"key": "speed", "value": "1"})
    for position, platform in ((0, "ios"), (1, "android")):
        form = {"key": "speed", "position": position, "value": "2", "rollout_percent": 100}
        operator_client.post(page(game) + "add-override", {**form, "platforms": platform})

    added = AuditLogEntry.objects.filter(action="remoteconfig.add_override").order_by("id")
    assert [(e.after["position"], e.after["platforms"]) for e in added] == [
        (0, ["ios"]),
        (1, ["android"]),
    ]

    confirm(operator_client, page(game) + "delete-key", {"key": "speed"})

    deleted = AuditLogEntry.objects.get(action="remoteconfig.delete_key")
    assert deleted.before["value"] == 1
    assert [(o["position"], o["platforms"]) for o in deleted.before["overrides"]] == [
        (0, ["ios"]),
        (1, ["android"]),
    ]
    assert not ConfigKey.objects.exists()


def test_the_draft_shows_the_order_overrides_are_tried_in(operator_client, game):
    import re

    operator_client.post(page(game) + "set-key", {"key": "speed", "value": "1"})
    for platform in ("ios", "android"):  # both at position 0: tried oldest first
        form = {"key": "speed", "position": 0, "value": "2", "rollout_percent": 100}
        operator_client.post(page(game) + "add-override", {**form, "platforms": platform})

    shown = operator_client.get(page(game)).content.decode()

    rows = re.findall(
        r"<tr><td>(\d+)</td><td>(\d+)</td><td><code>2</code></td><td>(\w+)</td>", shown
    )
    assert rows == [("1", "0", "ios"), ("2", "0", "android")]
