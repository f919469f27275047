"""An erasure racing the player's own writes, on PostgreSQL with real threads over HTTP with real
access tokens: whichever commits first, no personal data is left behind and nothing fails but
the write, with the revoked token's 401."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Game, Player
from apps.cloudsave.models import Document, DocumentVersion, SaveUsage
from apps.inventory.models import Currency, LedgerEntry
from apps.inventory.services import Change, apply_changes
from apps.shop.models import Offer, Purchase
from tests.accounts.erasure_races import race_with_erasure
from tests.shop.conftest import access_token, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SAVES = "/api/v1/player/saves"
ROUNDS = 6


def test_saves_racing_an_erasure_leave_no_document(game: Game):
    for round_ in range(ROUNDS):
        player = Player.objects.create(game=game, display_name=f"p{round_}")
        client = bearer(access_token(player))
        # An existing document, so a batch both updates (a row lock) and creates (the player's).
        client.put(f"{SAVES}/old", {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*")

        def write(client: APIClient = client, round_: int = round_) -> int:
            if round_ % 2:
                return client.put(
                    f"{SAVES}/new", {"value": "x"}, format="json", HTTP_IF_NONE_MATCH="*"
                ).status_code
            writes = [{"key": "old", "value": 2, "version": 1}, {"key": "new", "value": 3}]
            return client.post(SAVES, {"writes": writes}, format="json").status_code

        status, erased = race_with_erasure(write, player)

        assert erased is True
        # Written first, then erased; or refused: the token revoked, or (a batch that waited
        # on its document's lock) the document it wrote against gone.
        assert status in (200, 201, 401, 412), status
        assert not Document.objects.filter(player=player).exists()
        assert not DocumentVersion.objects.filter(document__player=player).exists()
        assert not SaveUsage.objects.filter(player=player).exists()


def test_a_purchase_racing_an_erasure_completes_or_is_refused_and_is_kept(game: Game):
    Currency.objects.create(game=game, code="gold", name="Gold")
    offer = Offer.objects.create(
        game=game,
        name="Sword",
        price_currency="gold",
        price_amount=10,
        contents=[{"currency": "gold", "quantity": 1}],  # one ledger entry: 10 out, 1 back
    )
    for round_ in range(ROUNDS):
        player = Player.objects.create(game=game, display_name=f"p{round_}")
        apply_changes(
            player=player,
            changes=[Change("currency", "gold", 100)],
            reason="grant",
            idempotency_key="start",
        )
        client = bearer(access_token(player))

        def buy(client: APIClient = client, round_: int = round_) -> int:
            return client.post(
                "/api/v1/shop/purchase",
                {"offer_id": offer.pk},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"buy-{round_}",
            ).status_code

        status, erased = race_with_erasure(buy, player)

        assert erased is True
        # 410: the purchase waited for the erasure (its lock reads the player FOR SHARE).
        assert status in (200, 201, 401, 410), status
        bought = Purchase.objects.filter(player=player).count()
        assert bought == (1 if status in (200, 201) else 0)
        # The ledger is kept either way (accounting), under the nameless tombstone.
        assert LedgerEntry.objects.filter(player=player).count() == 1 + bought
        assert Player.objects.get(pk=player.pk).display_name == ""
