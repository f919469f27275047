"""payments 0004's data migration: every payment made before it gets its own public token, and
an open sandbox checkout's link moves from the payment's id to that token, a batch at a time."""

from __future__ import annotations

import importlib
import re

import pytest

from tests.migrating import migrate_to, migrated_back_to

BEFORE = ("payments", "0003_store_transaction_once")
AFTER = ("payments", "0004_sweeper_and_public_tokens")
MIGRATION = importlib.import_module("apps.payments.migrations.0004_sweeper_and_public_tokens")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


@pytest.fixture
def at_previous_migration(transactional_db, monkeypatch):
    # Batches of two over five payments: the last batch is a short one.
    monkeypatch.setattr(MIGRATION, "BATCH", 2)
    with migrated_back_to(BEFORE) as apps:
        yield apps


@pytest.mark.django_db(transaction=True)
def test_every_payment_gets_its_own_token_and_sandbox_links_move_to_it(
    at_previous_migration, game, player
):
    # The shop is not migrated back: its purchases are made as today.
    from apps.shop.models import Category, Offer, Purchase

    category = Category.objects.create(game=game, name="Gems")
    offer = Offer.objects.create(
        game=game,
        category=category,
        name="Pile",
        contents=[{"currency": "gems", "quantity": 10}],
        price_currency="EUR",
        price_amount=499,
    )
    payments = at_previous_migration.get_model("payments", "Payment")

    def paid(provider: str, url: str = "") -> int:
        purchase = Purchase.objects.create(
            game=game,
            player=player,
            offer=offer,
            price_currency="EUR",
            price_amount=499,
            real_money=True,
            provider=provider,
        )
        payment = payments.objects.create(
            game_id=game.pk, purchase_id=purchase.pk, provider=provider, amount=499, currency="EUR"
        )
        payments.objects.filter(pk=payment.pk).update(
            checkout_url=url.format(pk=payment.pk) if url else ""
        )
        return payment.pk

    open_sandbox = [
        paid("sandbox", "https://panel.example/payments/sandbox/checkout/{pk}") for _ in range(3)
    ]
    elsewhere = paid("sandbox", "https://panel.example/payments/sandbox/checkout/{pk}/done")
    stripe = paid("stripe", "https://checkout.stripe.test/pay/payments/sandbox/checkout/{pk}")

    migrate_to(AFTER)

    rows = {
        pk: (token, url)
        for pk, token, url in _rows("SELECT id, public_token, checkout_url FROM payments_payment")
    }
    tokens = [token for token, _url in rows.values()]
    assert len(rows) == 5 and all(TOKEN.match(token) for token in tokens)
    assert len(set(tokens)) == 5
    for pk in open_sandbox:
        token, url = rows[pk]
        assert url == f"https://panel.example/payments/sandbox/checkout/{token}"
    assert rows[elsewhere][1] == f"https://panel.example/payments/sandbox/checkout/{elsewhere}/done"
    assert rows[stripe][1] == f"https://checkout.stripe.test/pay/payments/sandbox/checkout/{stripe}"


def _rows(sql: str) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
