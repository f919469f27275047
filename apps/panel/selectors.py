"""Reads for the player pages and the dashboard, through each app's selectors."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db.models import (
    BigIntegerField,
    Exists,
    F,
    FilteredRelation,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Game, PlatformIdentity, Player
from apps.accounts.selectors import identities_of
from apps.analytics.models import RevenueDay
from apps.audit.selectors import actions_on
from apps.cloudsave.models import Document, DocumentVersion
from apps.events.selectors import running_events
from apps.inventory.models import Currency, ItemDefinition
from apps.inventory.selectors import get_inventory
from apps.leaderboards.models import BracketReward, Entry, Period
from apps.multiplayer.selectors import live_server_count as live_servers_of
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.shop.models import Offer, Purchase, spend_rule
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
    "level": ("-level_xp", "-id"),
    "spend": ("-spend_total", "-id"),
}
# Sorts on indexed columns that are never NULL: read in keyset chunks, each one an index range.
# The others (a computed level or spend, the last login, which may be NULL) would sort every
# player again for each chunk, so they are read in one pass.
KEYSET_SORTS = frozenset({"newest", "oldest", "name", "id"})
CHUNK = 2000


def players_matching(*, game: Game, filters: PlayerFilters, sort: str = "newest") -> QuerySet:
    """The game's players that match every given filter, sorted; `xp_total` is annotated (None
    for a player without progress: 0 XP), and `spend_total` (minor units of the filter's
    currency, completed real-money purchases) when sorted by spend."""
    players = Player.objects.filter(game=game)
    query = filters.query.strip()
    if query:
        # The exact lookups are a few ids, found first through their indexes (the identities'
        # upper-cased id; the primary key), OR-ed with the name's substring match: PostgreSQL
        # then reads each side by its index (the name through accounts' trigram index,
        # player_name_trgm), where an OR with a subquery would read every player of the game.
        ids = set(
            PlatformIdentity.objects.filter(game=game, platform_user_id__iexact=query).values_list(
                "player_id", flat=True
            )
        )
        if query.isascii() and query.isdigit() and len(query) < 19:
            ids.add(int(query))
        match = Q(display_name__icontains=query)
        if ids:
            match |= Q(pk__in=sorted(ids))
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
    # PostgreSQL runs this subquery only for the rows a query returns (after its sort and LIMIT;
    # not at all in a count). Not wrapped in Coalesce: a spend sort then groups by the player
    # alone, not by the subquery, which would run it for every player.
    players = players.annotate(
        xp_total=Subquery(PlayerProgress.objects.filter(player=OuterRef("pk")).values("xp")[:1])
    )
    if sort == "level":  # one join puts every player in order
        players = players.alias(level_xp=Coalesce(F("progress__xp"), Value(0)))
    if filters.min_level is not None or filters.max_level is not None:
        # Each level bound is one set of players (progress rows at or above an XP), not a
        # subquery per player.
        thresholds = level_curve(game_id=game.pk).thresholds()
        if filters.min_level is not None and filters.min_level > 1:
            if filters.min_level > len(thresholds):
                return players.none()
            players = players.filter(pk__in=_reaching(thresholds[filters.min_level - 1]))
        if filters.max_level is not None and filters.max_level < len(thresholds):
            players = players.exclude(pk__in=_reaching(thresholds[max(filters.max_level, 0)]))
    if filters.spend_currency:
        minimum = _spend_minimum(filters)
        if minimum > 0:  # every player has spent at least nothing
            # One GROUP BY over the game's purchases (along shop's purchase_spend index), not a
            # sum per player.
            spenders = (
                _spend(game=game, currency=filters.spend_currency)
                .values("player")
                .annotate(total=Sum("price_amount"))
                .filter(total__gte=minimum)
                .values("player")
            )
            players = players.filter(pk__in=spenders)
        if sort == "spend":
            # One join and GROUP BY for the whole list, the purchases' conditions in the join:
            # the export's one pass (a page reads SpendPages).
            players = players.annotate(
                paid=FilteredRelation(
                    "purchases",
                    condition=spend_rule("purchases__")
                    & Q(purchases__price_currency=filters.spend_currency),
                ),
                spend_total=Sum("paid__price_amount", default=0),
            )
    elif sort == "spend":
        sort = "newest"  # spend is per currency: without one there is nothing to sort by
    return players.order_by(*PLAYER_SORTS.get(sort, PLAYER_SORTS["newest"]))


class LevelPages:
    """`players` (players_matching's, in any order) in the order of its level sort, XP then the
    newest first, read a page at a time: the players with XP in XP order through the progress's
    index (stats' progress_xp_player), then those without (no progress row, or 0 XP) newest
    first through the primary key. The one sorted join (players_matching's level sort, which
    the export reads in one pass) sorted every player of the game for each page (2.6 to 3.8 s at
    2M players)."""

    def __init__(self, players: QuerySet) -> None:
        self.players = players

    def __getitem__(self, rows: slice) -> list[Player]:
        start, stop = rows.start or 0, rows.stop
        # Their XP from the join: the players' subquery would run for every row OFFSET skips.
        with_xp = (
            self.players.filter(progress__xp__gt=0)
            .annotate(xp_total=F("progress__xp"))
            .order_by("-progress__xp", "-id")
        )
        page = list(with_xp[start:stop])
        if len(page) == stop - start:
            return page
        # The page reaches past the players with XP: how many they are (at most `start` when
        # the page has none of them), then the others from where the page starts among them.
        ahead = start + len(page) if page else with_xp.order_by()[:start].count()
        without_xp = (
            self.players.exclude(
                Exists(PlayerProgress.objects.filter(player=OuterRef("pk"), xp__gt=0))
            )
            .annotate(xp_total=Value(0, output_field=BigIntegerField()))
            .order_by("-id")
        )
        return page + list(without_xp[max(start - ahead, 0) : stop - ahead])


class SpendPages:
    """The players `filters` pick (with a spend currency) in the order of players_matching's
    spend sort, the most spent first then the newest, read a page at a time: the players who
    spent (more than 0) from their totals, which the database sums along shop's purchase_spend
    index (the purchases alone: no player is read) and cuts to the page (its LIMIT over the
    grouped index), then those who spent nothing (no such purchase, or only free ones) newest
    first through the primary key. The one join (players_matching's spend sort, which the
    export reads in one pass) summed the purchases of every player of the game, and sorted
    them all, for each page (2.2 s at 2M players and 2M purchases)."""

    def __init__(self, *, game: Game, filters: PlayerFilters) -> None:
        self.players = players_matching(game=game, filters=filters, sort="id")  # all: the count
        others = replace(filters, spend_currency="", min_spend=None)
        self.among = players_matching(game=game, filters=others, sort="id")
        # Prices are never below 0 (purchase_price_gte_0): the free purchases add nothing, and
        # without them every total summed is above 0.
        self.paid = _spend(game=game, currency=filters.spend_currency).filter(price_amount__gt=0)
        paid = self.paid
        if others != PlayerFilters():  # unfiltered, the game's purchases are its players'
            paid = paid.filter(player__in=self.among.values("pk"))
        totals = paid.values("player").annotate(total=Sum("price_amount"))
        minimum = _spend_minimum(filters)
        if minimum > 0:
            totals = totals.filter(total__gte=minimum)
        self.totals = totals.order_by("-total", "-player")
        self.minimum = minimum

    def __getitem__(self, rows: slice) -> list[Player]:
        start, stop = rows.start or 0, rows.stop
        totals = dict(self.totals.values_list("player", "total")[start:stop])
        found = self.among.in_bulk(list(totals))
        page = []
        for player_id, total in totals.items():
            if player_id in found:  # not deleted since
                found[player_id].spend_total = total
                page.append(found[player_id])
        if len(totals) == stop - start or self.minimum > 0:  # a minimum: all have spent
            return page
        # The page reaches past the players who spent: how many they are (at most `start` when
        # the page has none of them), then the others from where the page starts among them.
        ahead = start + len(totals) if totals else self.totals.order_by()[:start].count()
        nothing = (
            self.among.exclude(Exists(self.paid.filter(player=OuterRef("pk"))))
            .annotate(spend_total=Value(0, output_field=BigIntegerField()))
            .order_by("-id")
        )
        return page + list(nothing[max(start - ahead, 0) : stop - ahead])


def players_to_page(
    *, game: Game, filters: PlayerFilters, sort: str
) -> QuerySet | LevelPages | SpendPages:
    """What the player list pages through: players_matching's, or for a level sort its players
    read as LevelPages, for a spend sort (in a currency) as SpendPages."""
    if sort == "level":
        return LevelPages(players_matching(game=game, filters=filters, sort="id"))
    if sort == "spend" and filters.spend_currency:
        return SpendPages(game=game, filters=filters)
    return players_matching(game=game, filters=filters, sort=sort)


def _spend(*, game: Game, currency: str) -> QuerySet:
    """The game's purchases that make up its players' spend in `currency` (shop's spend_rule)."""
    return Purchase.objects.filter(spend_rule(), game=game, price_currency=currency)


def _spend_minimum(filters: PlayerFilters) -> int:
    """The spend filter's minimum, in minor units of its currency (0: none)."""
    if filters.min_spend is None or not filters.spend_currency:
        return 0
    return to_minor_units(filters.min_spend, filters.spend_currency)


def _reaching(xp: int) -> QuerySet:
    """The ids of the players with at least `xp`, a threshold past level 1's (at least one XP
    step): a player without a progress row, 0 XP, is not among them."""
    return PlayerProgress.objects.filter(xp__gte=xp).values("player")


def players_in_order(*, game: Game, filters: PlayerFilters, sort: str) -> Iterator:
    """Every player `players_matching` picks (with its annotations), in its order, for an
    export."""
    players = players_matching(game=game, filters=filters, sort=sort)
    if sort in KEYSET_SORTS:
        return in_keyset_chunks(players, PLAYER_SORTS[sort])
    return players.iterator(chunk_size=CHUNK)


def in_keyset_chunks(queryset: QuerySet, order: Sequence[str], size: int = CHUNK) -> Iterator:
    """Every row of `queryset` in `order` (columns that are never NULL, the last one unique),
    read `size` at a time, each chunk its own query starting after the last row read. Not one
    `.iterator()` over everything: outside a transaction that is a WITH HOLD cursor, which
    PostgreSQL fills with the whole result before the first row. A chunk's cursor holds at most
    `size` rows; read through `.iterator()`, its objects are made one at a time (a list of
    2,000 at once kept the garbage collector busy: a third slower)."""
    ordered = queryset.order_by(*order)
    chunk = ordered
    while True:
        count = 0
        for row in chunk[:size].iterator(chunk_size=size):
            count += 1
            last = row
            yield row
        if count < size:
            return
        chunk = ordered.filter(_after(order, last))


def _after(order: Sequence[str], row: Model) -> Q:
    """The rows after `row` in `order`: a > x OR (a = x AND b > y) OR …, and also a >= x on
    its own, which an index on a can start from (it cannot from the OR)."""
    conditions = []
    same = Q()
    for key in order:
        name = key.removeprefix("-")
        value = getattr(row, name)
        conditions.append(same & Q(**{f"{name}__{'lt' if key[0] == '-' else 'gt'}": value}))
        same &= Q(**{name: value})
    after = reduce(operator.or_, conditions)
    if len(order) == 1:
        return after
    first = order[0].removeprefix("-")
    bound = "lte" if order[0][0] == "-" else "gte"
    return Q(**{f"{first}__{bound}": getattr(row, first)}) & after


def to_minor_units(amount: Decimal, currency: str) -> int:
    return int(to_minor(amount, currency).to_integral_value())


def spend_currencies(*, game: Game) -> list[str]:
    """Real-money currencies: the game's offers' (what a purchase can be in now) and the
    revenue aggregates' (what purchases were in, an offer since changed included). Both are
    small tables; the purchases are not read."""
    offered = Offer.objects.filter(game=game, real_money=True).values_list(
        "price_currency", flat=True
    )
    paid = RevenueDay.objects.filter(game=game, real_money=True).values_list("currency", flat=True)
    return sorted(set(offered) | set(paid))


# The most digits an id or a number typed into the panel can have: a bigint's 19.
MAX_NUMBER_DIGITS = 19


def typed_number(text: str) -> int:
    """An id, a period or a version number as typed or sent back by a page: a whole number in
    ASCII digits, else 0, which names nothing (ids and numbers start at 1). Digits past a
    bigint's name nothing either, unread: int() refuses a string of more than 4,300 digits (a
    ValueError, so a 500), and past 19 none names a row ("²".isdigit() is True too, and int()
    refuses it)."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS:
        return int(text)
    return 0


def leaderboard_player(*, game: Game, period: Period, search: str) -> int | None:
    """The player a board page's search means: the id given, or the first in the period of the
    game's players with that display name (any case). The name is resolved to players through
    their index, then each one's entry by the period's unique (period, player) key. A search
    with U+0000 means nobody (no name holds it), asked of no database: PostgreSQL refuses the
    character in a query (a 500)."""
    if search.isascii() and search.isdigit():
        return typed_number(search) or None
    if "\x00" in search:
        return None
    named = Player.objects.filter(game=game, display_name__iexact=search).values("pk")
    return (
        Entry.objects.filter(period=period, player__in=named)
        .order_by("pk")
        .values_list("player_id", flat=True)
        .first()
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
    return live_servers_of(game_id=game.pk)


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


# What a destructive action's confirmation page says (apps/panel/views/confirm.py).


def sessions_to_end(*, player: Player) -> int:
    """The player's sessions not ended yet: those "revoke all sessions" and a ban end."""
    return player.sessions.filter(revoked_at__isnull=True).count()


def held(*, player: Player, kind: str, code: str) -> int:
    """How much of one currency or item the player holds now."""
    inventory = get_inventory(player=player)
    if kind == "currency":
        return inventory["currencies"].get(code, 0)  # type: ignore[attr-defined]
    items = inventory["items"]
    return next((item["quantity"] for item in items if item["sku"] == code), 0)  # type: ignore[attr-defined]


def save_to_restore(
    *, player: Player, key: str, version: int
) -> tuple[Document, DocumentVersion] | None:
    """A player's document and its kept version `version`, or None."""
    document = Document.objects.filter(player=player, key=key).first()
    kept = DocumentVersion.objects.filter(document=document, version=version).first()
    return None if document is None or kept is None else (document, kept)


def period_size(*, period: Period) -> tuple[int, int]:
    """The period's entries, and the bracket rewards its close pays (the board's and its own)."""
    entries = Entry.objects.filter(period=period).count()
    brackets = BracketReward.objects.filter(
        Q(period__isnull=True) | Q(period=period), board_id=period.board_id
    ).count()
    return entries, brackets


def draft_key(*, game: Game, key: str) -> ConfigKey | None:
    return ConfigKey.objects.filter(game=game, key=key).first()


def draft_override(*, game: Game, override_id: int) -> ConfigOverride | None:
    return (
        ConfigOverride.objects.select_related("config_key")
        .filter(pk=override_id, config_key__game=game)
        .first()
    )


def release_of(*, game: Game, version: int) -> ConfigRelease | None:
    return ConfigRelease.objects.filter(game=game, version=version).first()
