"""The sandbox demo game, seeded idempotently: each app seeds its own part (`apps/<app>/demo.py`),
called here in dependency order. This module sits above every app it seeds (docs/architecture.md),
so it also carries what one app's demo needs from another (the shop's offers into the analytics
demo, ledger activity for the analytics demo's players)."""

from __future__ import annotations

from django.db import transaction

from apps.accounts import demo as accounts_demo
from apps.accounts.models import Game
from apps.analytics import demo as analytics_demo
from apps.battlepass import demo as battlepass_demo
from apps.cloudsave import demo as cloudsave_demo
from apps.events import demo as events_demo
from apps.inventory import demo as inventory_demo
from apps.leaderboards import demo as leaderboards_demo
from apps.multiplayer import demo as multiplayer_demo
from apps.platforms import demo as platforms_demo
from apps.remoteconfig import demo as remoteconfig_demo
from apps.shop import demo as shop_demo
from apps.stats import demo as stats_demo

ANALYTICS_LEDGER_PLAYERS = 12


@transaction.atomic
def seed_demo_game() -> Game:
    game = accounts_demo.demo_game()
    for app_demo in (
        accounts_demo,
        platforms_demo,
        inventory_demo,
        stats_demo,
        battlepass_demo,  # before the shop: its premium pass is an offer
        shop_demo,
        events_demo,
        leaderboards_demo,
        multiplayer_demo,
        cloudsave_demo,
        remoteconfig_demo,
    ):
        app_demo.seed(game)
    players = analytics_demo.seed(game, offers=shop_demo.offer_prices(game))
    inventory_demo.seed_ledger_activity(game=game, players=players[:ANALYTICS_LEDGER_PLAYERS])
    analytics_demo.aggregate(game)
    return game
