"""Reads for the player pages and the dashboard, through each app's selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from apps.accounts.models import Game, PlatformIdentity, Player
from apps.accounts.selectors import identities_of
from apps.audit.selectors import actions_on
from apps.events.selectors import running_events
from apps.inventory.models import Currency, ItemDefinition
from apps.inventory.selectors import get_inventory
from apps.multiplayer.selectors import live_servers
from apps.shop.selectors import offer_in_game, purchases_of
from gamingpanel.errors import DomainError

SEARCH_LIMIT = 50
HISTORY_LIMIT = 50


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
    page: dict[str, Any] = {
        "identities": identities_of(player=player),
        "inventory": get_inventory(player=player),
        "ledger": list(
            player.ledger_entries.select_related("currency", "item", "actor").order_by("-id")[
                :HISTORY_LIMIT
            ]
        ),
        "purchases": list(purchases_of(player=player, limit=HISTORY_LIMIT)),
        "sessions": _related(player, "sessions", "-created_at"),
        "matches": _related(player, "match_results", "-recorded_at", "match"),
    }
    return page


def _related(player: Player, name: str, order: str, *joins: str) -> list:
    """A reverse relation another app adds to Player (sessions, match results)."""
    return list(getattr(player, name).select_related(*joins).order_by(order)[:HISTORY_LIMIT])


def actions_on_player(*, player: Player) -> list:
    """The audit trail of one player (bans, grants, revocations): for owners, as the log is."""
    return actions_on(game_id=player.game_id, target=player, limit=HISTORY_LIMIT)


def grant_targets(*, game: Game) -> tuple[list[str], list[str]]:
    currencies = list(
        Currency.objects.filter(game=game).order_by("code").values_list("code", flat=True)
    )
    items = list(
        ItemDefinition.objects.filter(game=game).order_by("sku").values_list("sku", flat=True)
    )
    return currencies, items


def live_server_count(*, game: Game) -> int:
    return len(live_servers(game_id=game.pk))


def running_event_names(*, game: Game) -> list[str]:
    return [event.name for event in running_events(game_id=game.pk)]


def offer_names(*, game: Game, offer_ids: list[str]) -> dict[str, str]:
    """Shop offer names for the ids analytics recorded (ids stay as they are if unknown)."""
    names: dict[str, str] = {}
    for offer_id in offer_ids:
        if not offer_id.isdigit():
            continue
        try:
            names[offer_id] = offer_in_game(game_id=game.pk, offer_id=int(offer_id)).name
        except DomainError:
            continue  # deleted or never existed: the id is shown
    return names
