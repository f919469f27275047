"""Shop reads: what a player can buy now, and their purchases."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.accounts.models import Player
from apps.shop.errors import OfferNotFound, PurchaseNotFound
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services import rules
from gamingpanel.sql import CompiledInstances

# One compiled query (gamingpanel.sql): every purchase starts here. Every column is read, so
# the offer rules see the offer as the ORM would load it.
OFFER_IN_GAME = CompiledInstances.compile(
    "SELECT {columns} FROM {offer} WHERE id = %s AND game_id = %s", Offer, offer=Offer
)


def find_offer(*, game_id: int, offer_id: int) -> Offer | None:
    """The game's offer with this id, or None (one query)."""
    return OFFER_IN_GAME.first([offer_id, game_id])


def offer_in_game(*, game_id: int, offer_id: int) -> Offer:
    offer = find_offer(game_id=game_id, offer_id=offer_id)
    if offer is None:
        raise OfferNotFound(f"No offer {offer_id} in this game.")
    return offer


def shop_for_player(*, player: Player) -> list[dict]:
    """Visible categories with the offers this player can buy now, in one query: every offer of
    the game that sits in a category, with its category and this player's count, is read, and
    the offer rules (`services.rules`, the purchase's own) decide what is listed."""
    now = timezone.now()
    bought = OfferPurchaseCount.objects.filter(player_id=player.pk, offer_id=OuterRef("pk"))
    offers = (
        Offer.objects.filter(game_id=player.game_id, category__isnull=False)
        .select_related("category")
        .annotate(bought=Subquery(bought.values("count")[:1]))
        .order_by("category__position", "category_id", "position", "id")
    )
    shop: list[dict] = []
    for offer in offers:
        assert offer.category is not None  # the filter says so
        if not rules.category_visible(offer.category, now):
            continue
        sale = rules.Sale(offer=offer, quantity=1, bought=offer.bought or 0, now=now)
        if rules.refusal(sale) is not None:
            continue
        if not shop or shop[-1]["category"].pk != offer.category_id:
            shop.append({"category": offer.category, "offers": []})
        shop[-1]["offers"].append(
            {
                "offer": offer,
                "remaining_purchases": rules.remaining_purchases(
                    offer=offer, bought=offer.bought or 0
                ),
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
