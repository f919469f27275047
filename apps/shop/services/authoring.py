"""What operators do to offers: clone one, and the stock an edit of one saves."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.services import record_action
from apps.shop.models import Offer

# Store product ids stay with the original: two offers answering one store product would make
# a receipt's offer ambiguous. Stock and the window are copied; the copy starts inactive.
COPIED_FIELDS = (
    "game_id", "category_id", "description", "position", "real_money", "price_currency",
    "price_amount", "contents", "available_from", "available_until", "per_player_limit", "stock",
    "store_consumable",
)  # fmt: skip


@transaction.atomic
def clone_offer(*, offer: Offer, actor: User | None) -> Offer:
    """An inactive copy named "<name> (copy)", to edit and switch on."""
    copy = Offer.objects.create(
        name=f"{offer.name} (copy)"[:100],
        active=False,
        **{field: getattr(offer, field) for field in COPIED_FIELDS},
    )
    record_action(
        actor=actor,
        game=offer.game,
        action="offer.clone",
        target=copy,
        after={"name": copy.name, "cloned_from": offer.pk, "active": False},
    )
    return copy


class Unsaid(Enum):
    """A save that did not say which stock its page was loaded with (a script's POST)."""

    UNSAID = "unsaid"


UNSAID = Unsaid.UNSAID


@dataclass(frozen=True)
class StockEdit:
    """A stock an operator typed (None: unlimited) over the one their page was loaded with."""

    typed: int | None
    loaded: int | None | Unsaid


class StockMoved(Exception):
    """A typed stock not taken: the stock is no longer the one the page was loaded with (or the
    save did not say which that was), so saving it could undo purchases made meanwhile."""

    def __init__(self, *, loaded: int | None | Unsaid, now: int | None) -> None:
        self.loaded = loaded
        self.now = now
        super().__init__(f"stock loaded as {loaded}, now {now}")


def stock_to_save(*, offer_id: int, edit: StockEdit | None) -> int | None:
    """The stock an operator's save of the offer writes: the one stored now when they left it
    alone (`edit` None), else the number they typed, if the stock is still the one their page
    was loaded with; otherwise StockMoved. Purchases and expired checkouts move the stock while
    the page is open, so the stock is read under the offer's row lock. Call inside the
    transaction that writes the offer (the admin's save runs in one), so the lock is held to
    that write's commit: a purchase that reserves meanwhile waits, and is never overwritten."""
    now = Offer.objects.select_for_update().values_list("stock", flat=True).get(pk=offer_id)
    if edit is None:
        return now
    if edit.loaded is UNSAID or edit.loaded != now:
        raise StockMoved(loaded=edit.loaded, now=now)
    return edit.typed
