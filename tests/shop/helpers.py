"""Catalogue builders shared by the economy tests (inventory, shop, payments)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.battlepass.models import Season
from apps.inventory.models import Currency, ItemDefinition, Wallet
from apps.inventory.services import change_balance
from apps.shop.models import Category, Offer, Purchase


def make_economy(game: Game) -> None:
    Currency.objects.create(game=game, code="gold", name="Gold")
    Currency.objects.create(game=game, code="gems", name="Gems", cap=100_000)
    ItemDefinition.objects.create(
        game=game, sku="potion", name="Potion", kind=ItemDefinition.Kind.STACKABLE, max_stack=99
    )
    ItemDefinition.objects.create(
        game=game, sku="sword", name="Sword", kind=ItemDefinition.Kind.DURABLE
    )


def make_offer(game: Game, **fields: Any) -> Offer:
    category = Category.objects.get_or_create(game=game, name="Main")[0]
    values = {
        "category": category,
        "name": "Gem pack",
        "price_currency": "gold",
        "price_amount": 100,
        "contents": [{"currency": "gems", "quantity": 10}],
        **fields,
    }
    return Offer.objects.create(game=game, **values)


def fund(player: Player, amount: int, currency: str = "gold") -> None:
    change_balance(
        player=player,
        currency=currency,
        delta=amount,
        reason="test",
        idempotency_key=f"fund-{amount}",
    )


def balance(player: Player, currency: str) -> int:
    wallet = Wallet.objects.filter(player=player, currency__code=currency).first()
    return wallet.balance if wallet else 0


def premium_pass_offer(game: Game) -> tuple[Season, Offer]:
    """A running season and a real-money offer of its premium pass with 10 gems."""
    make_economy(game)
    now = timezone.now()
    season = Season.objects.create(
        game=game, name="S1", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=9)
    )
    offer = make_offer(
        game,
        real_money=True,
        price_currency="USD",
        price_amount=999,
        contents=[{"battlepass_premium": season.pk}, {"currency": "gems", "quantity": 10}],
    )
    return season, offer


def make_gem_pack(game: Game) -> Offer:
    """A real-money offer of 100 gems for 1.99 USD, with the game's economy."""
    make_economy(game)
    return make_offer(
        game,
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
    )


def start_purchase(player: Player, offer: Offer, key: str = "k") -> Purchase:
    """A real-money purchase started (202, its checkout open), as stored."""
    from apps.shop.services.purchase import purchase_offer

    result = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key=key)
    assert result.status_code == 202, result.body
    return Purchase.objects.get(pk=result.body["purchase_id"])
