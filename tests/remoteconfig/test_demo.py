"""The demo game carries a save slot and a few config keys with overrides; seeding is
idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.cloudsave.models import SaveKey
from apps.remoteconfig.models import ConfigOverride, ConfigRelease
from gamingpanel.shortcache import clear_every_cache
from tests.shop.conftest import access_token, bearer

pytestmark = pytest.mark.django_db


def test_the_demo_has_save_keys_and_a_published_config_with_overrides():
    call_command("seed_demo", quiet=True)
    call_command("seed_demo", quiet=True)

    game_keys = dict(SaveKey.objects.values_list("key", "public"))
    assert game_keys == {"slot1": False, "profile": True, "rank": True}
    assert ConfigRelease.objects.count() == 1
    assert ConfigOverride.objects.count() == 3
    release = ConfigRelease.objects.get()
    player = release.game.players.first() or release.game.players.create(display_name="x")
    clear_every_cache()
    client = bearer(access_token(player))
    values = client.get("/api/v1/config", HTTP_X_CLIENT_PLATFORM="ios").json()["values"]
    assert values["daily_bonus"] == 150 and values["motd"] == {"text": "Welcome to the demo!"}
    slot = client.put(
        "/api/v1/player/saves/slot1", {"value": {"chapter": 1}}, format="json",
        HTTP_IF_NONE_MATCH="*",
    )  # fmt: skip
    assert slot.status_code == 201
