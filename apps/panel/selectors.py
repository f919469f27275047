"""Reads for the player pages and the dashboard, through each app's selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Game, PlatformIdentity, Player
from apps.accounts.selectors import identities_of
from apps.audit.selectors import actions_on
from apps.events.selectors import running_events
from apps.inventory.models import Currency, ItemDefinition
from apps.inventory.selectors import get_inventory
from apps.multiplayer.selectors import live_servers
from apps.shop.models import Purchase
from apps.shop.selectors import offer_in_game, purchases_of
from apps.stats.models import PlayerProgress
from apps.stats.selectors import level_curve
from gamingpanel.currencies import to_minor
from gamingpanel.errors import DomainError

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class PlayerFilters:
    """Which players of a game a list, an export or a segment action means. Every field is
    optional; the ones given are all applied (AND)."""

    query: str = ""
    platform: str = ""
    banned: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    seen_after: datetime | None = None
    seen_before: datetime | None = None
    min_level: int | None = None
    max_level: int | None = None
    spend_currency: str = ""
    min_spend: Decimal | None = None  # major units of spend_currency, completed purchases only


PLAYER_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "last_seen": ("-last_login_at", "-id"),
    "name": ("display_name", "id"),
    "id": ("id",),
    "level": ("-xp_total", "-id"),
    "spend": ("-spend_total", "-id"),
}


def players_matching(*, game: Game, filters: PlayerFilters, sort: str = "newest") -> QuerySet:
    """The game's players that match every given filter, sorted; `spend_total` (minor units of
    the filter's currency, completed real-money purchases) and `xp_total` are annotated."""
    players = Player.objects.filter(game=game)
    query = filters.query.strip()
    if query:
        match = Q(display_name__icontains=query) | Q(
            Exists(
                PlatformIdentity.objects.filter(
                    player=OuterRef("pk"), platform_user_id__iexact=query
                )
            )
        )
        if query.isascii() and query.isdigit() and len(query) < 19:
            match |= Q(pk=int(query))
        players = players.filter(match)
    if filters.platform:
        players = players.filter(
            Exists(
                PlatformIdentity.objects.filter(player=OuterRef("pk"), platform=filters.platform)
            )
        )
    if filters.banned is not None:
        banned = Q(banned_until__gt=timezone.now())
        players = players.filter(banned if filters.banned else ~banned)
    for field, lookup, value in (
        ("created_at", "gte", filters.created_after),
        ("created_at", "lt", filters.created_before),
        ("last_login_at", "gte", filters.seen_after),
        ("last_login_at", "lt", filters.seen_before),
    ):
        if value is not None:
            players = players.filter(**{f"{field}__{lookup}": value})
    players = players.annotate(
        xp_total=Coalesce(
            Subquery(PlayerProgress.objects.filter(player=OuterRef("pk")).values("xp")[:1]),
            Value(0),
        )
    )
    if filters.min_level is not None or filters.max_level is not None:
        thresholds = level_curve(game_id=game.pk).thresholds()
        if filters.min_level is not None and filters.min_level > 1:
            if filters.min_level > len(thresholds):
                return players.none()
            players = players.filter(xp_total__gte=thresholds[filters.min_level - 1])
        if filters.max_level is not None and filters.max_level < len(thresholds):
            players = players.filter(xp_total__lt=thresholds[max(filters.max_level, 0)])
    if filters.spend_currency:
        spent = (
            Purchase.objects.filter(
                player=OuterRef("pk"),
                status=Purchase.Status.COMPLETED,
                real_money=True,
                price_currency=filters.spend_currency,
            )
            .values("player")
            .annotate(total=Sum("price_amount"))
            .values("total")
        )
        players = players.annotate(spend_total=Coalesce(Subquery(spent), Value(0)))
        if filters.min_spend is not None:
            players = players.filter(
                spend_total__gte=to_minor_units(filters.min_spend, filters.spend_currency)
            )
    elif sort == "spend":
        sort = "newest"  # spend is per currency: without one there is nothing to sort by
    return players.order_by(*PLAYER_SORTS.get(sort, PLAYER_SORTS["newest"]))


def to_minor_units(amount: Decimal, currency: str) -> int:
    return int(to_minor(amount, currency).to_integral_value())


def spend_currencies(*, game: Game) -> list[str]:
    """Currencies the game's players have paid real money in."""
    return list(
        Purchase.objects.filter(game=game, real_money=True)
        .order_by("price_currency")
        .values_list("price_currency", flat=True)
        .distinct()
    )


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
        if not (offer_id.isascii() and offer_id.isdigit()):
            continue
        try:
            names[offer_id] = offer_in_game(game_id=game.pk, offer_id=int(offer_id)).name
        except DomainError:
            continue  # deleted or never existed: the id is shown
    return names
