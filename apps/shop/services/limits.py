"""Per-player limits and stock: reserved when a purchase starts (taken by a store purchase),
released if it ends unpaid or is refunded before it was granted.
`reserve` is where a purchase asks the offer rules (`rules.check`), with the player's count
read under its row lock.

A limit counts every purchase the player made of the offer, whenever the limit was set: the
player's counter (OfferPurchaseCount) is kept only while the offer has a limit, so the first
one made for a player and an offer starts from the purchases they made before (`COUNTED`), and
an operator who adds a limit in the admin makes every buyer's at once (`limit_saved`),
so the catalogue counts them too."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Player
from apps.battlepass.services import lock_premium_passes
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services import rules
from gamingpanel.sql import CompiledQuery

# The purchases that count towards a limit, as the counter counts them as they happen: granted
# (a refund of a granted purchase frees no slot), or not granted yet while they hold the slot
# they took (`reserved_slots`: a checkout, or a store purchase the shop could not grant, whose
# refund gives it back in `fulfilment.refund_purchase`); a checkout that ended unpaid, or a
# refused purchase, holds none. A checkout opened (or a store purchase made) while the offer had
# no limit took no slot: it counts once granted.
_STATUS = Purchase.Status
COUNTED = (
    f"(status = '{_STATUS.COMPLETED}'"
    f" OR (status = '{_STATUS.REFUNDED}' AND completed_at IS NOT NULL)"
    f" OR (status = '{_STATUS.PENDING}' AND reserved_slots > 0))"
)
# A player's counter, made (if there is none) with what they bought of the offer before: one
# statement, in place of an empty row's insert, that sums nothing once the counter exists. The
# purchase being made (already inserted in this transaction) is left out: it adds its own
# units. A second purchase making the same counter at once waits on the unique key, then finds
# it made.
START_COUNT = CompiledQuery.compile(
    'INSERT INTO {count} (player_id, offer_id, "count")'  # noqa: S608 - a fixed condition only
    " SELECT CAST(%s AS BIGINT), CAST(%s AS BIGINT),"
    " (SELECT COALESCE(SUM(quantity), 0) FROM {purchase}"
    f" WHERE player_id = %s AND offer_id = %s AND id <> %s AND {COUNTED})"
    " WHERE NOT EXISTS (SELECT 1 FROM {count} WHERE player_id = %s AND offer_id = %s)"
    " ON CONFLICT (player_id, offer_id) DO NOTHING",
    count=OfferPurchaseCount,
    purchase=Purchase,
)
# Every buyer's counter at once, for a limit an operator has just set (limit_saved).
START_COUNTS = CompiledQuery.compile(
    'INSERT INTO {count} (player_id, offer_id, "count")'  # noqa: S608 - a fixed condition only
    " SELECT player_id, offer_id, SUM(quantity) FROM {purchase}"
    f" WHERE offer_id = %s AND {COUNTED} GROUP BY player_id, offer_id"
    " ON CONFLICT (player_id, offer_id) DO NOTHING",
    count=OfferPurchaseCount,
    purchase=Purchase,
).unprepared()  # an operator's save, seldom: nothing to plan once


@dataclass(frozen=True)
class Reservation:
    """What a reservation took: units of stock and of the player's limit."""

    stock: int
    slots: int


def reserve(*, player: Player, offer: Offer, quantity: int, purchase_id: int) -> Reservation:
    """Call inside the purchase's transaction (the caller's atomic block), after inserting the
    purchase (`purchase_id`): checks the offer rules, then takes a limit slot and the stock. A
    purchase that waits for payment records what was taken (Purchase.reserved_stock,
    reserved_slots) for `release`."""
    counter = None
    if offer.per_player_limit is not None:
        start_count(player_id=player.pk, offer_id=offer.pk, purchase_id=purchase_id)
        # The counter row is what serialises two purchases of one limited offer by one player.
        counter = OfferPurchaseCount.objects.select_for_update().get(player=player, offer=offer)
    bought = counter.count if counter is not None else 0
    premium = rules.premium_season_ids(offer)
    owned = lock_premium_passes(player=player, season_ids=premium) if premium else frozenset()
    sale = rules.Sale(
        offer=offer,
        quantity=quantity,
        bought=bought,
        now=timezone.now(),
        owned_premium_seasons=owned,
    )
    rules.check(sale)
    if counter is not None:
        OfferPurchaseCount.objects.filter(pk=counter.pk).update(count=F("count") + quantity)
    if offer.stock is not None:
        # An atomic conditional update: no read-then-write window for two buyers of the last one.
        taken = Offer.objects.filter(pk=offer.pk, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        if not taken:
            # Refused, so one more read costs no sale: how many are left says whether the offer
            # is sold out or a smaller quantity can still be bought.
            left = Offer.objects.filter(pk=offer.pk).values_list("stock", flat=True).first()
            # None: made unlimited by plain SQL since the purchase read it (a save through the
            # services waits for the purchase), which a retry buys.
            raise rules.stock_refusal(left if left is not None else 0)
    return Reservation(
        stock=quantity if offer.stock is not None else 0,
        slots=quantity if counter is not None else 0,
    )


def release(*, purchase: Purchase, offer: Offer) -> None:
    """Give back what `reserve` (or `count_store_purchase`) took for a purchase that was never
    granted (a checkout closed unpaid, a refund before the grant): what it recorded, not
    what the offer's stock or limit would take now (a limit added or stock set since took
    nothing from this purchase). Stock made unlimited since stays unlimited."""
    if purchase.reserved_slots:
        OfferPurchaseCount.objects.filter(
            player_id=purchase.player_id, offer=offer, count__gte=purchase.reserved_slots
        ).update(count=F("count") - purchase.reserved_slots)
    if purchase.reserved_stock:
        Offer.objects.filter(pk=offer.pk).update(stock=F("stock") + purchase.reserved_stock)


def start_count(*, player_id: int, offer_id: int, purchase_id: int) -> None:
    """Make the player's counter for a limited offer if there is none, with what they bought of
    it before (every purchase but `purchase_id`, the one being made)."""
    START_COUNT.execute(
        [player_id, offer_id, player_id, offer_id, purchase_id, player_id, offer_id]
    )


def limit_saved(*, offer_id: int, limit: int | None) -> None:
    """An operator has changed the offer's limit, in the save's transaction, which holds the
    offer's row FOR UPDATE (no purchase of it is under way, and none starts before it commits).

    Set: every player who bought the offer before has a counter with what they bought, so the
    catalogue lists it to them as a purchase would judge it. Counters that exist are left as
    they are: they have counted every purchase since they were made (and this waits on none of
    their row locks). Removed: the counters go, since purchases stop counting while the offer
    has no limit; a limit set again starts them from every purchase, those made meanwhile too.
    A counter an expiring checkout is giving a slot back to at that moment is skipped (waiting
    for it, which waits for the offer, would deadlock): it is as right as the expiry leaves it."""
    Offer.objects.select_for_update().filter(pk=offer_id).values_list("pk").first()
    if limit is not None:
        START_COUNTS.execute([offer_id])
        return
    free = OfferPurchaseCount.objects.select_for_update(skip_locked=True).filter(offer_id=offer_id)
    OfferPurchaseCount.objects.filter(pk__in=list(free.values_list("pk", flat=True))).delete()


def count_store_purchase(
    *, player: Player, offer: Offer, quantity: int, purchase_id: int
) -> Reservation:
    """A store purchase (a receipt), inside its transaction: the store has charged, so no rule
    refuses it, but it is a purchase like any other. It counts towards the player's limit and
    takes the stock (down to none, never below), so the catalogue stops listing what the player
    may no longer buy and a later purchase is refused: a once-per-player pack bought in the
    App Store was otherwise listed and sold again. What it took is recorded on the purchase as a
    checkout's reservation is (`reserved_stock`, `reserved_slots`), for `release` to give back
    if it is refunded before it was granted. Counter, season passes, then offer: the order
    `reserve` takes them (the grant locks the passes again, already held), so a receipt and a
    purchase of one premium-pass offer by one player wait for each other, never deadlock."""
    slots = stock = 0
    # The limit is read again here, not from `offer` (read before the store was asked): the
    # purchase's row, inserted already, holds the offer FOR KEY SHARE, so an operator's save
    # of a limit has committed (and is seen) or waits for this one (and counts it).
    if Offer.objects.filter(pk=offer.pk, per_player_limit__isnull=False).exists():
        start_count(player_id=player.pk, offer_id=offer.pk, purchase_id=purchase_id)
        OfferPurchaseCount.objects.filter(player=player, offer=offer).update(
            count=F("count") + quantity
        )
        slots = quantity
    if offer.stock is not None:
        if premium := rules.premium_season_ids(offer):
            lock_premium_passes(player=player, season_ids=premium)
        stock = _take_stock(offer_id=offer.pk, quantity=quantity)
    if slots or stock:
        Purchase.objects.filter(pk=purchase_id).update(reserved_stock=stock, reserved_slots=slots)
    return Reservation(stock=stock, slots=slots)


def _take_stock(*, offer_id: int, quantity: int) -> int:
    """Up to `quantity` units of the offer's stock, never below none: how many were taken."""
    if Offer.objects.filter(pk=offer_id, stock__gte=quantity).update(stock=F("stock") - quantity):
        return quantity
    # Fewer left than the store sold (or unlimited since): what is left, under the row lock the
    # UPDATE would take (no key lock: purchases under way hold the offer FOR KEY SHARE).
    left = (
        Offer.objects.select_for_update(no_key=True)
        .filter(pk=offer_id, stock__isnull=False)
        .values_list("stock", flat=True)
        .first()
    )
    if not left:
        return 0
    taken = min(left, quantity)
    Offer.objects.filter(pk=offer_id).update(stock=F("stock") - taken)
    return taken
