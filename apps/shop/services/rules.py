"""Offer rules, in one place: whether this player may buy this offer now, in this quantity.

Every path that sells or lists an offer asks `refusal` (or `check`): a virtual or real-money
purchase (`purchase.py`, after `limits.reserve` has locked the player's counter) and the
catalogue (`selectors.shop_for_player`, which lists what passes for one unit). A new rule is
one more function in `OFFER_RULES`; nothing else decides. The database has the last word where
two buyers race: `limits.reserve` takes the stock with a conditional UPDATE and the limit
under the counter's row lock, and refuses with this module's errors.

Store receipts (`receipts.py`) skip these rules on purpose: the store has already charged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apps.battlepass.selectors import unended_season_ends
from apps.shop.errors import (
    ContentsUnavailable,
    InvalidQuantity,
    OfferUnavailable,
    PurchaseLimitReached,
)
from apps.shop.models import Category, Offer
from gamingpanel.errors import DomainError

# The lines a purchase knows how to grant: through the ledger, or the battle pass's premium.
GRANTABLE_LINES = ("currency", "sku", "battlepass_premium")


@dataclass(frozen=True)
class Sale:
    """What the rules look at: an offer, how many units, how many this player already bought
    (or is paying for) of it, when, and the seasons whose premium pass the player already has
    (asked only for an offer that sells one; the catalogue does not ask)."""

    offer: Offer
    quantity: int
    bought: int
    now: datetime
    owned_premium_seasons: frozenset[int] = frozenset()


Rule = Callable[[Sale], DomainError | None]


def is_open(sale: Sale) -> DomainError | None:
    offer, now = sale.offer, sale.now
    if not offer.active:
        return OfferUnavailable("This offer cannot be bought now.")
    if offer.available_from is not None and now < offer.available_from:
        return OfferUnavailable("This offer cannot be bought now.")
    if offer.available_until is not None and now >= offer.available_until:
        return OfferUnavailable("This offer cannot be bought now.")
    return None


def in_shown_category(sale: Sale) -> DomainError | None:
    """An offer in a category the shop does not show now (switched off, not yet or no longer
    visible) is not for sale either; an offer in no category is judged by its own window."""
    category = sale.offer.category
    if category is not None and not category_visible(category, sale.now):
        return OfferUnavailable("This offer cannot be bought now.")
    return None


def in_stock(sale: Sale) -> DomainError | None:
    stock = sale.offer.stock
    if stock is not None and stock < max(sale.quantity, 1):
        return stock_refusal(stock)
    return None


def contents_available(sale: Sale) -> DomainError | None:
    """Every line must be one the shop can grant: a line of another kind (stored without the
    admin's validation) would be paid for and never granted, and a currency or item line must
    say how many (`counted`)."""
    contents = sale.offer.contents
    # No lines (a row saved without the admin's validation) would be paid for and grant nothing.
    for line in contents if isinstance(contents, list) and contents else [None]:
        if not grantable(line):
            return contents_unavailable()
    return None


def grantable(line: object) -> bool:
    """A line the shop can grant: a battle-pass premium, or a currency or item line `counted`."""
    if not isinstance(line, dict) or not any(kind in line for kind in GRANTABLE_LINES):
        return False
    return "battlepass_premium" in line or counted(line)


def counted(line: dict) -> bool:
    """A currency or item line's quantity is a whole number above zero, as the admin's
    validation has it. One stored otherwise (by a script, an old row) cannot be multiplied by
    the units bought: text "10" bought 3 times was "101010", a fraction was rounded down, a
    negative one took from the player."""
    quantity = line.get("quantity")
    return isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0


def contents_unavailable() -> ContentsUnavailable:
    return ContentsUnavailable("Part of this offer cannot be granted yet.")


def premium_season_open(sale: Sale) -> DomainError | None:
    """A premium line must name a season of the offer's game that has not ended: the offer
    was checked when it was saved, but its season may have ended (or been deleted) since, and
    a pass nobody can grant would be paid for and flagged "paid but not granted". Answered as
    any line that cannot be granted; the seasons are the battle pass's, kept a few seconds."""
    seasons = [
        line["battlepass_premium"]
        for line in sale.offer.contents
        if isinstance(line, dict) and "battlepass_premium" in line
    ]
    if not seasons:
        return None
    ends = unended_season_ends(game_id=sale.offer.game_id)
    for season in seasons:
        end = ends.get(season) if isinstance(season, int) else None
        if end is None or end <= sale.now:
            return ContentsUnavailable(
                "The battle-pass season this offer sells has ended or is not in this game."
            )
    return None


def one_pass_at_a_time(sale: Sale) -> DomainError | None:
    if sale.quantity > 1 and any("battlepass_premium" in line for line in sale.offer.contents):
        return InvalidQuantity("A battle-pass offer is bought one at a time.")
    return None


def premium_not_owned(sale: Sale) -> DomainError | None:
    """A season's premium pass is had once: buying it again would take the price and give
    nothing."""
    if premium_season_ids(sale.offer) & sale.owned_premium_seasons:
        return PurchaseLimitReached(
            "You already have this season's premium pass.", remaining_purchases=0
        )
    return None


def premium_season_ids(offer: Offer) -> set[int]:
    """The seasons whose premium pass the offer sells."""
    contents = offer.contents if isinstance(offer.contents, list) else []
    found = set()
    for line in contents:
        if isinstance(line, dict) and "battlepass_premium" in line:
            try:
                found.add(int(line["battlepass_premium"]))
            except (TypeError, ValueError):
                continue  # not a season: never granted either (premium_season_open refuses it)
    return found


def within_limit(sale: Sale) -> DomainError | None:
    remaining = remaining_purchases(offer=sale.offer, bought=sale.bought)
    if remaining is not None and sale.quantity > remaining:
        return PurchaseLimitReached(
            f"This offer can be bought {sale.offer.per_player_limit} times; {remaining} left.",
            remaining_purchases=remaining,
        )
    return None


OFFER_RULES: list[Rule] = [
    is_open,
    in_shown_category,
    in_stock,
    contents_available,
    premium_season_open,
    one_pass_at_a_time,
    premium_not_owned,
    within_limit,
]


def refusal(sale: Sale) -> DomainError | None:
    """The first rule this sale breaks, or None when it may go ahead."""
    for rule in OFFER_RULES:
        if (error := rule(sale)) is not None:
            return error
    return None


def check(sale: Sale) -> None:
    if (error := refusal(sale)) is not None:
        raise error


def remaining_purchases(*, offer: Offer, bought: int) -> int | None:
    """Units this player may still buy; None when the offer has no per-player limit."""
    if offer.per_player_limit is None:
        return None
    return max(offer.per_player_limit - bought, 0)


def sold_out() -> OfferUnavailable:
    return OfferUnavailable("This offer is sold out.", reason="sold_out")


def stock_refusal(remaining: int) -> OfferUnavailable:
    """Fewer units left than asked for: `sold_out` when none are, else `not_enough_stock`
    with how many are (`remaining_stock`), so a client does not say "sold out" while a smaller
    quantity can still be bought."""
    if remaining < 1:
        return sold_out()
    return OfferUnavailable(
        f"Only {remaining} of this offer left.",
        reason="not_enough_stock",
        remaining_stock=remaining,
    )


def sale_end(offer: Offer) -> datetime | None:
    """When the offer stops selling (None: no end set): its own window's end, or its category's
    if the category stops being shown first (`in_shown_category`)."""
    category = offer.category if offer.category_id is not None else None
    ends = [offer.available_until, category.visible_until if category is not None else None]
    return min((end for end in ends if end is not None), default=None)


def category_visible(category: Category, now: datetime) -> bool:
    return (
        category.active
        and (category.visible_from is None or category.visible_from <= now)
        and (category.visible_until is None or now < category.visible_until)
    )
