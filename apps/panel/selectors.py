"""Reads for the player pages, through each app's selectors. Sections whose app has not landed
(or lacks the selector) are simply absent: `_optional` finds them when they arrive."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from apps.accounts.models import Game, PlatformIdentity, Player
from apps.inventory.models import Currency, ItemDefinition
from gamingpanel.errors import DomainError

SEARCH_LIMIT = 50
HISTORY_LIMIT = 50


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def search_players(*, game: Game, query: str) -> QuerySet[Player]:
    """By player id, platform user id (exact) or display name (contains), in this game only."""
    query = query.strip()
    players = Player.objects.filter(game=game)
    if not query:
        return players.order_by("-created_at")[:SEARCH_LIMIT]
    match = Q(display_name__icontains=query) | Q(
        pk__in=PlatformIdentity.objects.filter(game=game, platform_user_id=query).values("player")
    )
    if query.isdigit():
        match |= Q(pk=int(query))
    return players.filter(match).order_by("-created_at")[:SEARCH_LIMIT]


def player_in_game(*, game: Game, player_id: int) -> Player | None:
    return Player.objects.filter(game=game, pk=player_id).first()


def player_page(*, player: Player) -> dict[str, Any]:
    identities = _optional("apps.accounts.selectors", "identities_of")
    inventory = _optional("apps.inventory.selectors", "get_inventory")
    purchases = _optional("apps.shop.selectors", "purchases_of")
    page: dict[str, Any] = {
        "identities": identities(player=player) if identities else list(player.identities.all()),
        "inventory": inventory(player=player) if inventory else None,
        "ledger": list(
            player.ledger_entries.select_related("currency", "item", "actor").order_by("-id")[
                :HISTORY_LIMIT
            ]
        ),
        "purchases": list(purchases(player=player, limit=HISTORY_LIMIT)) if purchases else None,
        "sessions": _related(player, "sessions", "-created_at"),
        "matches": _related(player, "match_results", "-recorded_at", "match"),
    }
    return page


def _related(player: Player, name: str, order: str, *joins: str) -> list | None:
    """A reverse relation another app adds to Player (sessions, match results), if it exists."""
    manager = getattr(player, name, None)
    if manager is None:
        return None
    return list(manager.select_related(*joins).order_by(order)[:HISTORY_LIMIT])


def actions_on_player(*, player: Player) -> list:
    """The audit trail of one player (bans, grants, revocations): for owners, as the log is."""
    from apps.audit.models import AuditLogEntry

    return list(
        AuditLogEntry.objects.filter(
            game_id=player.game_id,
            target_type=Player._meta.label_lower,
            target_id=str(player.pk),
        ).order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )


def grant_targets(*, game: Game) -> tuple[list[str], list[str]]:
    currencies = list(
        Currency.objects.filter(game=game).order_by("code").values_list("code", flat=True)
    )
    items = list(
        ItemDefinition.objects.filter(game=game).order_by("sku").values_list("sku", flat=True)
    )
    return currencies, items


def live_server_count(*, game: Game) -> int | None:
    live_servers = _optional("apps.multiplayer.selectors", "live_servers")
    return live_servers(game_id=game.pk).count() if live_servers else None


def running_event_names(*, game: Game) -> list[str] | None:
    running_events = _optional("apps.events.selectors", "running_events")
    return [event.name for event in running_events(game_id=game.pk)] if running_events else None


def offer_names(*, game: Game, offer_ids: list[str]) -> dict[str, str]:
    """Shop offer names for the ids analytics recorded (ids stay as they are if unknown)."""
    offer_in_game = _optional("apps.shop.selectors", "offer_in_game")
    names: dict[str, str] = {}
    for offer_id in offer_ids:
        if offer_in_game is None or not offer_id.isdigit():
            continue
        try:
            names[offer_id] = offer_in_game(game_id=game.pk, offer_id=int(offer_id)).name
        except DomainError:
            continue  # deleted or never existed: the id is shown
    return names
