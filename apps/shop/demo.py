"""The demo shop: gold and gems, a bundle, a real-money offer paid through the sandbox
processor, and the running season's premium battle pass."""

from __future__ import annotations

from apps.accounts.models import Game
from apps.battlepass.selectors import running_season
from apps.shop.models import Category, Offer

CATEGORIES = [("Featured", 0), ("Currency", 10), ("Items", 20)]
OFFERS = [
    # category, name, real money, price currency, amount, contents, per-player limit
    (
        "Featured",
        "Starter bundle",
        False,
        "gold",
        300,
        [{"sku": "sword", "quantity": 1}, {"sku": "potion", "quantity": 5}],
        1,
    ),
    ("Currency", "Bag of gold", False, "gems", 50, [{"currency": "gold", "quantity": 500}], None),
    ("Currency", "Pile of gems", True, "USD", 199, [{"currency": "gems", "quantity": 100}], None),
    ("Items", "Health potion", False, "gold", 20, [{"sku": "potion", "quantity": 1}], None),
    ("Items", "XP boost", False, "gems", 10, [{"sku": "xp-boost", "quantity": 1}], None),
]


def seed(game: Game) -> None:
    categories = {
        name: Category.objects.get_or_create(game=game, name=name, defaults={"position": pos})[0]
        for name, pos in CATEGORIES
    }
    for position, (category, name, real, currency, amount, contents, limit) in enumerate(OFFERS):
        Offer.objects.get_or_create(
            game=game,
            name=name,
            defaults={
                "category": categories[category],
                "position": position,
                "real_money": real,
                "price_currency": currency,
                "price_amount": amount,
                "contents": contents,
                "per_player_limit": limit,
                "apple_product_id": f"demo.{name.lower().replace(' ', '_')}" if real else "",
                "google_product_id": f"demo.{name.lower().replace(' ', '_')}" if real else "",
            },
        )
    _seed_premium_pass(game, categories["Featured"])


def _seed_premium_pass(game: Game, category: Category) -> None:
    """seed_demo seeds the battle pass before the shop, so the running season exists here."""
    season = running_season(game_id=game.pk)
    if season is None:
        return
    Offer.objects.get_or_create(
        game=game,
        name=f"{season.name} premium pass",
        defaults={
            "category": category,
            "position": -1,
            "price_currency": "gems",
            "price_amount": 80,
            "contents": [{"battlepass_premium": season.pk}],
            "per_player_limit": 1,
        },
    )


def offer_prices(game: Game) -> list[tuple[str, str, int]]:
    """(offer id, price currency, amount) of the game's offers, for the demo's analytics."""
    rows = Offer.objects.filter(game=game).values_list("pk", "price_currency", "price_amount")
    return [(str(pk), currency, amount) for pk, currency, amount in rows]
