"""A payment account is not deleted while its game has payments through that provider: its
refunds and chargebacks are verified with its settings (disabling it keeps them working)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import Game, GameAccess
from apps.accounts.services import set_game_access
from apps.payments.models import Payment, ProviderAccount
from apps.shop.models import Purchase
from tests.payments.conftest import post_stripe, stripe_event
from tests.payments.test_stripe import completed, start
from tests.shop.helpers import balance, make_economy, make_offer

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/payments/provideraccount/"


def owner_of(game: Game) -> Client:
    user = get_user_model().objects.create_user(username="owen", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OWNER)
    client = Client()
    client.force_login(user)
    return client


def refund() -> bytes:
    return stripe_event(
        "charge.refunded",
        {"id": "ch_1", "payment_intent": "pi_1", "refunded": True, "amount": 199},
        event_id="evt_r",
    )


@pytest.fixture
def sold(api_client, player_client, player, real_offer, checkout, stripe_account):
    """One paid Stripe purchase: the player holds its 100 gems."""
    purchase_id = start(player_client, real_offer).json()["purchase_id"]
    post_stripe(api_client, completed(purchase_id=purchase_id))
    assert balance(player, "gems") == 100
    return purchase_id


def test_an_account_that_sold_is_not_deleted_and_its_refunds_still_reverse(
    sold, api_client, player, game, stripe_account
):
    owner = owner_of(game)

    page = owner.post(f"{CHANGELIST}{stripe_account.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Cannot delete" in html
    assert "1 payment(s) through Stripe" in html and "Enabled" in html
    assert ProviderAccount.objects.filter(pk=stripe_account.pk).exists()
    # What the page points to instead: a disabled account still verifies its refunds.
    stripe_account.enabled = False
    stripe_account.save()
    assert post_stripe(api_client, refund()).status_code == 200
    assert Purchase.objects.get(pk=sold).status == Purchase.Status.REFUNDED
    assert balance(player, "gems") == 0


def test_bulk_delete_refuses_when_one_selected_account_sold(sold, game, stripe_account):
    unused = ProviderAccount.objects.create(game=game, provider="google_play")
    owner = owner_of(game)

    page = owner.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [stripe_account.pk, unused.pk],
            "post": "yes",
        },
    )

    assert page.status_code == 200
    assert "Cannot delete" in page.content.decode()
    assert ProviderAccount.objects.count() == 2


def test_an_account_whose_provider_sold_nothing_in_its_game_is_deleted(
    game, other_game, stripe_account
):
    # Another game's Stripe payments are not this account's.
    make_economy(other_game)
    purchase = Purchase.objects.create(
        game=other_game,
        player=other_game.players.create(display_name="bob"),
        offer=make_offer(other_game, real_money=True, price_currency="USD", price_amount=199),
        quantity=1,
        price_currency="USD",
        price_amount=199,
        idempotency_key="k",
    )
    Payment.objects.create(game=other_game, purchase=purchase, provider="stripe")
    owner = owner_of(game)

    single = owner.post(f"{CHANGELIST}{stripe_account.pk}/delete/", {"post": "yes"})
    assert single.status_code == 302
    unused = ProviderAccount.objects.create(game=game, provider="google_play")
    bulk = owner.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [unused.pk], "post": "yes"}
    )

    assert bulk.status_code == 302
    assert not ProviderAccount.objects.filter(game=game).exists()
