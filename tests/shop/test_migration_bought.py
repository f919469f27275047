"""shop 0004's data migration: what each purchase made before it bought, and what a pending one
reserved, filled a batch at a time."""

from __future__ import annotations

import importlib

import pytest

from tests.migrating import migrate_to, migrated_back_to

BEFORE = ("shop", "0003_drop_quick_purchase_function")
AFTER = ("shop", "0004_purchase_bought_and_reserved")
MIGRATION = importlib.import_module("apps.shop.migrations.0004_purchase_bought_and_reserved")
GOLD = {"currency": "gold", "quantity": 100}
SWORD = {"sku": "sword", "quantity": 1}


@pytest.fixture
def at_previous_migration(transactional_db, monkeypatch):
    # Batches of two over the four purchases not granted: each batch is a full one.
    monkeypatch.setattr(MIGRATION, "BATCH", 2)
    with migrated_back_to(BEFORE) as apps:
        yield apps


@pytest.mark.django_db(transaction=True)
def test_each_purchase_bought_what_it_was_granted_or_what_its_offer_gives_now(
    at_previous_migration, game, player
):
    apps = at_previous_migration
    category = apps.get_model("shop", "Category").objects.create(game_id=game.pk, name="Gold")
    offers = apps.get_model("shop", "Offer").objects

    def offer(contents: list, **limits: int) -> object:
        return offers.create(
            game_id=game.pk,
            category=category,
            name=f"Offer {offers.count()}",
            contents=contents,
            price_currency="EUR",
            price_amount=499,
            **limits,
        )

    limited = offer([GOLD, SWORD], stock=50, per_player_limit=5)
    premium = offer([{"battlepass_premium": 7}])
    purchases = apps.get_model("shop", "Purchase").objects

    def purchase(of: object, **fields: object) -> int:
        values = {"quantity": 1, "status": "pending", "source": "shop", **fields}
        return purchases.create(
            game_id=game.pk,
            player_id=player.pk,
            offer=of,
            price_currency="EUR",
            price_amount=499,
            **values,
        ).pk

    granted = purchase(limited, status="completed", granted=[{**GOLD, "quantity": 70}])
    pending = purchase(limited, quantity=3)
    pending_pass = purchase(premium)
    failed = purchase(limited, quantity=2, status="failed")
    receipt = purchase(limited, source="receipt")

    migrate_to(AFTER)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, bought, reserved_stock, reserved_slots FROM shop_purchase")
        rows = {pk: (_json(bought), stock, slots) for pk, bought, stock, slots in cursor}
    assert rows[granted] == ([{**GOLD, "quantity": 70}], 0, 0)
    assert rows[pending] == ([{**GOLD, "quantity": 300}, {**SWORD, "quantity": 3}], 3, 3)
    pass_line = {"premium_pass": 7, "quantity": 1, "battlepass_premium": 7}
    assert rows[pending_pass] == ([pass_line], 0, 0)
    assert rows[failed] == ([{**GOLD, "quantity": 200}, {**SWORD, "quantity": 2}], 0, 0)
    assert rows[receipt] == ([GOLD, SWORD], 0, 0)


def _json(value: object) -> object:
    import json

    return json.loads(value) if isinstance(value, str) else value
