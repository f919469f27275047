"""The demo game's remote config: a few keys, overrides by platform, client version with a
rollout, and level; published once (a second seed changes nothing)."""

from apps.accounts.models import Game
from apps.remoteconfig.models import ConfigKey, ConfigRelease
from apps.remoteconfig.services import add_override, publish, set_key

KEYS = {
    "difficulty": ("normal", "Default difficulty of a new run"),
    "daily_bonus": (100, "Gold granted by the daily login bonus (shown in the client)"),
    "new_shop_layout": (False, "The redesigned shop screen"),
    "motd": ({"text": "Welcome to the demo!"}, "Message of the day"),
}


def seed(game: Game) -> None:
    if (
        ConfigRelease.objects.filter(game=game).exists()
        or ConfigKey.objects.filter(game=game).exists()
    ):
        return
    for key, (value, description) in KEYS.items():
        set_key(game=game, actor=None, key=key, value=value, description=description)
    add_override(game=game, actor=None, key="daily_bonus", value=150, platforms=["ios", "android"])
    add_override(
        game=game,
        actor=None,
        key="new_shop_layout",
        value=True,
        min_client_version="1.4",
        rollout_percent=50,
    )
    add_override(game=game, actor=None, key="difficulty", value="hard", min_level=10)
    publish(game=game, actor=None, note="demo seed")
