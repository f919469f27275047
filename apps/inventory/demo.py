from apps.accounts.models import Game
from apps.inventory.models import Currency, ItemDefinition

CURRENCIES = [("gold", "Gold", None), ("gems", "Gems", 100_000)]
ITEMS = [
    ("potion", "Health potion", ItemDefinition.Kind.STACKABLE, 99),
    ("sword", "Iron sword", ItemDefinition.Kind.DURABLE, None),
    ("xp-boost", "XP boost", ItemDefinition.Kind.CONSUMABLE, None),
]


def seed(game: Game) -> None:
    for code, name, cap in CURRENCIES:
        Currency.objects.get_or_create(game=game, code=code, defaults={"name": name, "cap": cap})
    for sku, name, kind, max_stack in ITEMS:
        ItemDefinition.objects.get_or_create(
            game=game, sku=sku, defaults={"name": name, "kind": kind, "max_stack": max_stack}
        )
