"""Shop reads: what a player can buy now, and their purchases."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Player
from apps.shop.errors import OfferNotFound, PurchaseNotFound
from apps.shop.models import Category, Offer, OfferPurchaseCount, Purchase


def offer_in_game(*, game_id: int, offer_id: int) -> Offer:
    offer = Offer.objects.filter(pk=offer_id, game_id=game_id).first()
    if offer is None:
        raise OfferNotFound(f"No offer {offer_id} in this game.")
    return offer


def open_offers_q(now: object, prefix: str = "") -> Q:
    p = prefix
    return (
        Q(**{f"{p}active": True})
        & (Q(**{f"{p}available_from__isnull": True}) | Q(**{f"{p}available_from__lte": now}))
        & (Q(**{f"{p}available_until__isnull": True}) | Q(**{f"{p}available_until__gt": now}))
        & (Q(**{f"{p}stock__isnull": True}) | Q(**{f"{p}stock__gt": 0}))
    )


def shop_for_player(*, player: Player) -> list[dict]:
    """Visible categories with the offers this player can buy now, in three queries."""
    now = timezone.now()
    categories = (
        Category.objects.filter(game_id=player.game_id, active=True)
        .filter(Q(visible_from__isnull=True) | Q(visible_from__lte=now))
        .filter(Q(visible_until__isnull=True) | Q(visible_until__gt=now))
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=Offer.objects.filter(open_offers_q(now), game_id=player.game_id),
                to_attr="open",
            )
        )
    )
    categories = list(categories)
    bought = dict(
        OfferPurchaseCount.objects.filter(
            player=player, offer__category__in=[c.pk for c in categories]
        ).values_list("offer_id", "count")
    )
    shop = []
    for category in categories:
        offers = []
        for offer in category.open:
            remaining = None
            if offer.per_player_limit is not None:
                remaining = max(offer.per_player_limit - bought.get(offer.pk, 0), 0)
                if remaining == 0:
                    continue
            offers.append({"offer": offer, "remaining_purchases": remaining})
        if offers:
            shop.append({"category": category, "offers": offers})
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
