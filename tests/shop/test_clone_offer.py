"""Operators clone offers: an inactive copy, store product ids left with the original, audited;
analysts cannot."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.shop.models import Offer

pytestmark = pytest.mark.django_db


def login(client, game, name: str, role: str) -> None:
    account = get_user_model().objects.create_user(username=name, password="pw-long-enough-1")
    set_game_access(user=account, game=game, role=role)
    client.force_login(account)


def clone(client, offer):
    return client.post(
        "/admin/shop/offer/", {"action": "clone_selected", "_selected_action": [offer.pk]}
    )


@pytest.fixture
def offer(game):
    return Offer.objects.create(
        game=game, name="Gems", price_currency="USD", price_amount=499, real_money=True,
        contents=[{"currency": "gems", "quantity": 100}], per_player_limit=3,
        apple_product_id="com.alpha.gems",
    )  # fmt: skip


def test_clone_is_an_inactive_copy_without_store_ids(client, game, offer):
    login(client, game, "olga", GameAccess.Role.OPERATOR)
    assert clone(client, offer).status_code == 302
    copy = Offer.objects.exclude(pk=offer.pk).get()
    assert (copy.name, copy.active, copy.apple_product_id) == ("Gems (copy)", False, "")
    assert (copy.contents, copy.price_amount, copy.per_player_limit) == (
        offer.contents, 499, 3,
    )  # fmt: skip
    assert AuditLogEntry.objects.filter(action="offer.clone").count() == 1


def test_analysts_cannot_clone(client, game, offer):
    login(client, game, "ann", GameAccess.Role.ANALYST)
    clone(client, offer)
    assert Offer.objects.count() == 1
