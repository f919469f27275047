"""Four weeks of plausible demo activity, aggregated, so a newcomer's dashboard has a shape.

Idempotent: demo players and events are made once (events carry `demo:` ids; a demo player is
found again by its name, as the first so named without a platform login), and aggregation
recomputes the same numbers on every run. The demo seed (apps/devdocs/demo_seed.py) passes the
shop's offers in and writes ledger activity for the players between `seed` and `aggregate`."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from apps.accounts.demo import demo_player
from apps.accounts.models import Game, Player
from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import EventName, RawEvent
from apps.analytics.services import SERVER_EVENT_NAMES

DAYS = 28
PLAYERS = 60
DEMO_NAME = "Demo player {:02d}"
CLIENT_EVENTS = ["level_start", "level_complete", "tutorial_step", "item_used"]
# (offer, price currency, amount in minor units) when the demo shop is not there
FALLBACK_OFFERS = [("1", "USD", 199), ("2", "USD", 499), ("3", "EUR", 999)]


def seed(game: Game, *, offers: list[tuple[str, str, int]] | None = None) -> list[Player]:
    """The demo players (returned) and their events; `offers`: (offer id, price currency,
    amount) for purchase events, so top offers show the shop's names."""
    start = timezone.now().date() - timedelta(days=DAYS - 1)
    players = _players(game, start)
    if not RawEvent.objects.filter(game=game, event_id__startswith="demo:").exists():
        _events(game, players, start, offers or FALLBACK_OFFERS)
    return [player for player, _ in players]


def aggregate(game: Game) -> None:
    today = timezone.now().date()
    aggregate_days(game_id=game.pk, start=today - timedelta(days=DAYS - 1), end=today)


def _players(game: Game, start) -> list[tuple[Player, int]]:
    rng = random.Random(f"players-{game.pk}")  # noqa: S311 - demo data
    players = []
    for n in range(1, PLAYERS + 1):
        created_day = min(int(rng.expovariate(1 / 8)), DAYS - 1)
        created_at = datetime.combine(start + timedelta(days=created_day), time(10), tzinfo=UTC)
        player = demo_player(game, DEMO_NAME.format(n), created_at=created_at)
        players.append((player, created_day))
    return players


def _events(
    game: Game, players: list[tuple[Player, int]], start, offers: list[tuple[str, str, int]]
) -> None:
    rng = random.Random(f"events-{game.pk}")  # noqa: S311 - demo data
    rows = []
    for player, created_day in players:
        for day in range(created_day, DAYS):
            age = day - created_day
            if age and rng.random() > 0.2 + 0.6 * math.exp(-age / 4):
                continue
            moment = datetime.combine(start + timedelta(days=day), time(9), tzinfo=UTC)
            moment += timedelta(minutes=rng.randrange(12 * 60))
            names = ["player_created"] if age == 0 else []
            names += ["session_start"] * rng.randint(1, 2)
            names += ["match_played"] * rng.randint(0, 2)
            names += rng.choices(CLIENT_EVENTS, k=rng.randint(0, 2))
            if rng.random() < 0.1:
                names.append("purchase_completed")
            for step, name in enumerate(names):
                properties = _properties(name, rng, offers, player, day, step)
                rows.append(
                    RawEvent(
                        game=game,
                        player=player,
                        source=RawEvent.Source.SERVER
                        if name in SERVER_EVENT_NAMES
                        else RawEvent.Source.CLIENT,
                        name=name,
                        event_id=f"demo:{player.pk}:{day}:{step}",
                        occurred_at=moment + timedelta(minutes=step * 3),
                        day=start + timedelta(days=day),
                        properties=properties,
                    )
                )
    RawEvent.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    # Written past the ingestion: registered here, as the game's own (apps.analytics.names).
    EventName.objects.bulk_create(
        [EventName(game=game, name=name, first_seen=start) for name in CLIENT_EVENTS],
        ignore_conflicts=True,
    )


def _properties(name: str, rng: random.Random, offers, player: Player, day: int, step: int):
    if name == "match_played":
        return {
            "match_id": f"demo-{day}-{rng.randrange(40)}",
            "mode": rng.choice(["duel", "squad"]),
            "outcome": rng.choice(["win", "loss", "draw"]),
        }
    if name == "purchase_completed":
        offer_id, currency, amount = rng.choice(offers)
        return {
            "offer_id": offer_id,
            "purchase_id": f"demo-{player.pk}-{day}-{step}",
            "currency": currency,
            "amount": amount,
            "real_money": currency.isupper(),
        }
    if name == "level_complete":
        return {"level": rng.randint(1, 30)}
    return {}
