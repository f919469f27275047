"""Shop reads: what a player can buy now, and their purchases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.accounts.models import Player
from apps.payments.services.closing import CHECKOUT_EXPIRED, NOT_OPENED
from apps.shop.errors import OfferNotFound, PurchaseNotFound
from apps.shop.models import Category, Offer, OfferPurchaseCount, Purchase
from apps.shop.services import rules
from gamingpanel.shortcache import ShortCache
from gamingpanel.sql import CompiledInstances, CompiledQuery, Statement, row_lock

# One compiled query (gamingpanel.sql): every purchase starts here. Every column of the offer
# and of its category (the rules ask whether the category is shown) is read, so the offer rules
# see them as the ORM would load them.
_OFFER_IN_GAME = """
    SELECT {columns}
      FROM {offer} LEFT JOIN {category} ON {category}.id = {offer}.category_id
     WHERE {offer}.id = %s AND {offer}.game_id = %s
    """
OFFER_IN_GAME = CompiledInstances.compile_joined(
    _OFFER_IN_GAME,
    (Offer, Category),
    extra=0,
    tables={"offer": Offer, "category": Category},
)
# The same read in a purchase's transaction, the offer held FOR KEY SHARE until it commits
# (services.purchase.purchase_offer): an admin save, which reads it FOR UPDATE, waits for the
# purchases under way, and a purchase waits for a save under way and then reads what it saved.
# Purchases do not wait on each other: a stock UPDATE takes no key lock.
OFFER_FOR_SALE = CompiledInstances.compile_joined(
    _OFFER_IN_GAME + row_lock("FOR KEY SHARE OF {offer}"),
    (Offer, Category),
    extra=0,
    tables={"offer": Offer, "category": Category},
)


def find_offer(*, game_id: int, offer_id: int) -> Offer | None:
    """The game's offer with this id, its `category` loaded, or None (one query)."""
    return _offer_of(OFFER_IN_GAME.rows([offer_id, game_id]))


def find_offer_for_sale(*, game_id: int, offer_id: int) -> Offer | None:
    """find_offer for a purchase, inside its transaction: the offer held until it commits, so
    an operator's save either waits for it or is what it reads (one query)."""
    return _offer_of(OFFER_FOR_SALE.rows([offer_id, game_id]))


def _offer_of(found: list[tuple[Any, ...]]) -> Offer | None:
    if not found:
        return None
    offer, category = found[0]
    offer.category = category if offer.category_id is not None else None
    return offer


def offer_in_game(*, game_id: int, offer_id: int) -> Offer:
    offer = find_offer(game_id=game_id, offer_id=offer_id)
    if offer is None:
        raise OfferNotFound(f"No offer {offer_id} in this game.")
    return offer


def offer_counts(*, categories: Sequence[Category]) -> dict[int, int]:
    """How many offers (active or not) each category holds, by category id (one query; a
    category with none is left out)."""
    return dict(
        Offer.objects.filter(category__in=categories)
        .order_by()
        .values("category_id")
        .annotate(count=Count("pk"))
        .values_list("category_id", "count")
    )


def offers_with_store_product(*, game_id: int, field: str, product_id: str) -> list[int]:
    """The ids of the game's offers that carry this store product id in `field`
    (`apple_product_id` or `google_product_id`)."""
    return list(
        Offer.objects.filter(game_id=game_id, **{field: product_id})
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# How stale the catalogue may be in each process: an offer or a category that an operator adds,
# edits or hides, and the stock an offer shows, reach players within this many seconds. What a
# player may buy is decided on every request by the offer rules (`services.rules`, the
# purchase's own) against the kept offers and the player's own counts, which are never kept; a
# purchase reads its offer and takes its stock fresh.
CATALOGUE_SECONDS = 2.0

# Every offer of the game that sits in a category, and its category, in the catalogue's order:
# one compiled query (gamingpanel.sql), run at most once per CATALOGUE_SECONDS per process.
CATALOGUE_ROWS = CompiledInstances.compile_joined(
    """
    SELECT {columns}
      FROM {offer} JOIN {category} ON {category}.id = {offer}.category_id
     WHERE {offer}.game_id = %s
     ORDER BY {category}.position, {offer}.category_id, {offer}.position, {offer}.id
    """,
    (Offer, Category),
    extra=0,
    tables={"offer": Offer, "category": Category},
)
# What this player bought of each offer that counts purchases (one indexed query a visit).
PLAYER_COUNTS = CompiledQuery.compile(
    'SELECT offer_id, "count" FROM {count} WHERE player_id = %s', count=OfferPurchaseCount
)
_catalogues: ShortCache[list[Offer]] = ShortCache(seconds=CATALOGUE_SECONDS)


def catalogue(*, game_id: int) -> list[Offer]:
    """Every offer of the game that sits in a category, its `category` loaded, in the
    catalogue's order; kept CATALOGUE_SECONDS in this process and shared by its requests, so
    read them and never change them."""
    return _catalogues.get_or_load(game_id, lambda: _load_catalogue(game_id=game_id)) or []


def _load_catalogue(*, game_id: int) -> list[Offer]:
    categories: dict[int, Category] = {}
    offers = []
    for offer, category in CATALOGUE_ROWS.rows([game_id]):
        offer.category = categories.setdefault(category.pk, category)
        offers.append(offer)
    return offers


def shop_for_player(*, player: Player) -> list[dict]:
    """Visible categories with the offers this player can buy now: the kept catalogue, and the
    player's counts in one query; the offer rules (`services.rules`, the purchase's own) decide
    what is listed."""
    now = timezone.now()
    bought = dict(PLAYER_COUNTS.rows([player.pk]))
    shop: list[dict] = []
    for offer in catalogue(game_id=player.game_id):
        category = offer.category
        assert category is not None  # the catalogue holds only offers in a category
        count = bought.get(offer.pk, 0)
        sale = rules.Sale(offer=offer, quantity=1, bought=count, now=now)
        if rules.refusal(sale) is not None:
            continue
        if not shop or shop[-1]["category"].pk != category.pk:
            shop.append({"category": category, "offers": []})
        shop[-1]["offers"].append(
            {
                "offer": offer,
                "remaining_purchases": rules.remaining_purchases(offer=offer, bought=count),
                "available_until": rules.sale_end(offer),
            }
        )
    return shop


def purchases_of(*, player: Player, before_id: int | None = None, limit: int = 50) -> QuerySet:
    purchases = Purchase.objects.filter(player=player).select_related("payment")
    if before_id is not None:
        purchases = purchases.filter(pk__lt=before_id)
    return purchases.order_by("-id")[:limit]


def purchase_of(*, player: Player, purchase_id: int) -> Purchase:
    purchase = (
        Purchase.objects.filter(player=player, pk=purchase_id).select_related("payment").first()
    )
    if purchase is None:
        raise PurchaseNotFound(f"No purchase {purchase_id} of yours.")
    return purchase


# A note that is a problem code: what a refused or failed purchase noted before `outcome` was.
_CODE_NOTE = re.compile(r"[a-z][a-z0-9_]*")
ENDED = (Purchase.Status.FAILED, Purchase.Status.EXPIRED)


def ended_outcome(purchase: Purchase) -> str | None:
    """Why a failed or expired purchase ended (a stable problem code), or None: not ended so,
    or ended before outcomes were recorded in a way its row cannot tell (an old checkout that
    was cancelled or failed)."""
    if purchase.status not in ENDED:
        return None
    if purchase.outcome:
        return purchase.outcome
    if purchase.status == Purchase.Status.EXPIRED:
        return CHECKOUT_EXPIRED  # only an expiry ever ended one so
    if purchase.note == "checkout never opened":
        return NOT_OPENED
    return purchase.note if _CODE_NOTE.fullmatch(purchase.note) else None


# Whether the player has a completed real-money purchase (remote config's "payer").
HAS_PAID_REAL_MONEY = CompiledQuery.compile(
    "SELECT 1 FROM {purchase} WHERE player_id = %s AND real_money AND status = %s LIMIT 1",
    purchase=Purchase,
)


def has_paid_real_money(*, player_id: int) -> bool:
    """Whether the player has a completed real-money purchase (remote config's "payer"); one
    indexed query."""
    query, params = has_paid_real_money_statement(player_id=player_id)
    return paid_of(query.rows(params))


def has_paid_real_money_statement(*, player_id: int) -> Statement:
    """has_paid_real_money's query, for a caller that sends it with others
    (gamingpanel.sql.run_together); its rows make the answer with paid_of."""
    return HAS_PAID_REAL_MONEY, [player_id, Purchase.Status.COMPLETED.value]


def paid_of(rows: list[tuple[Any, ...]]) -> bool:
    return bool(rows)
