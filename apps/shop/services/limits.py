"""Per-player limits and stock: reserved when a purchase starts, released if it never pays.
`reserve` is where a purchase asks the offer rules (`rules.check`), with the player's count
read under its row lock."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.accounts.models import Player
from apps.battlepass.services import lock_premium_passes
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services import rules


@dataclass(frozen=True)
class Reservation:
    """What a reservation took: units of stock and of the player's limit."""

    stock: int
    slots: int


def reserve(*, player: Player, offer: Offer, quantity: int) -> Reservation:
    """Call inside the purchase's transaction (the caller's atomic block): checks the offer
    rules, then takes a limit slot and the stock. A purchase that waits for payment records
    what was taken (Purchase.reserved_stock, reserved_slots) for `release`."""
    counter = None
    if offer.per_player_limit is not None:
        OfferPurchaseCount.objects.bulk_create(
            [OfferPurchaseCount(player=player, offer=offer)], ignore_conflicts=True
        )
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
    """Give back what `reserve` took for a purchase that was never paid: what it recorded, not
    what the offer's stock or limit would take now (a limit added or stock set since took
    nothing from this purchase). Stock made unlimited since stays unlimited."""
    if purchase.reserved_slots:
        OfferPurchaseCount.objects.filter(
            player_id=purchase.player_id, offer=offer, count__gte=purchase.reserved_slots
        ).update(count=F("count") - purchase.reserved_slots)
    if purchase.reserved_stock:
        Offer.objects.filter(pk=offer.pk).update(stock=F("stock") + purchase.reserved_stock)


def count_store_purchase(*, player: Player, offer: Offer, quantity: int) -> None:
    """A store purchase (a receipt), inside its transaction: the store has charged, so no rule
    refuses it, but it is a purchase like any other. It counts towards the player's limit and
    takes the stock (down to none, never below), so the catalogue stops listing what the player
    may no longer buy and a later purchase is refused: a once-per-player pack bought in the
    App Store was otherwise listed and sold again. Counter, season passes, then offer: the order
    `reserve` takes them (the grant locks the passes again, already held), so a receipt and a
    purchase of one premium-pass offer by one player wait for each other, never deadlock."""
    if offer.per_player_limit is not None:
        OfferPurchaseCount.objects.bulk_create(
            [OfferPurchaseCount(player=player, offer=offer)], ignore_conflicts=True
        )
        OfferPurchaseCount.objects.filter(player=player, offer=offer).update(
            count=F("count") + quantity
        )
    if offer.stock is not None:
        if premium := rules.premium_season_ids(offer):
            lock_premium_passes(player=player, season_ids=premium)
        Offer.objects.filter(pk=offer.pk, stock__isnull=False).update(
            stock=Greatest(F("stock") - quantity, 0)
        )
