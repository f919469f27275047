import random

from apps.accounts.models import Game, Player
from apps.inventory.errors import InsufficientFunds, UnknownCurrency
from apps.inventory.models import Currency, ItemDefinition
from apps.inventory.services import Change, apply_changes

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


def seed_ledger_activity(*, game: Game, players: list[Player]) -> None:
    """A few sources and sinks through the ledger service for the demo's analytics (they land
    today, as ledger rows do); fixed idempotency keys make a second run change nothing."""
    rng = random.Random(f"ledger-{game.pk}")  # noqa: S311 - demo data
    for n, player in enumerate(players):
        for reason, code, delta in [
            ("match_reward", "gold", rng.randint(20, 120)),
            ("daily_login", "gems", rng.randint(1, 5)),
            ("shop_purchase", "gold", -rng.randint(5, 20)),
        ]:
            try:
                apply_changes(
                    player=player,
                    changes=[Change("currency", code, delta)],
                    reason=reason,
                    idempotency_key=f"demo-analytics:{n}:{reason}",
                )
            except (InsufficientFunds, UnknownCurrency):
                continue
