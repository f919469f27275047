"""A real-money purchase is paid after it was made: it grants what was bought then, gives back
exactly what it reserved if it is never paid, and a premium pass paid for twice is flagged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.battlepass.models import Season, SeasonPass
from apps.shop.errors import PurchaseLimitReached
from apps.shop.models import Offer, OfferPurchaseCount, Purchase
from apps.shop.services.fulfilment import close_unpaid, fulfil_purchase, refund_purchase
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import balance, make_economy, make_offer, premium_pass_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def gem_pack(game):
    make_economy(game)
    return make_offer(
        game,
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
    )


def start(player, offer, key: str, quantity: int = 1) -> Purchase:
    result = purchase_offer(
        player=player, offer_id=offer.pk, quantity=quantity, idempotency_key=key
    )
    assert result.status_code == 202, result.body
    return Purchase.objects.get(pk=result.body["purchase_id"])


def test_a_paid_purchase_grants_the_contents_it_was_made_with(player, gem_pack):
    purchase = start(player, gem_pack, "k", quantity=2)
    Offer.objects.filter(pk=gem_pack.pk).update(contents=[{"currency": "gems", "quantity": 5000}])

    fulfilled, balances = fulfil_purchase(purchase_id=purchase.pk)
    refund_purchase(purchase_id=purchase.pk, kind="refund")

    assert balances == {"gems": 200}
    assert fulfilled.granted == fulfilled.bought == [{"currency": "gems", "quantity": 200}]
    assert balance(player, "gems") == 0  # the refund takes back what was granted


def test_an_expired_checkout_gives_back_no_stock_it_never_took(player, gem_pack):
    purchase = start(player, gem_pack, "k", quantity=3)  # unlimited stock: nothing taken
    Offer.objects.filter(pk=gem_pack.pk).update(stock=10)

    close_unpaid(purchase_id=purchase.pk, status=Purchase.Status.EXPIRED)

    assert Offer.objects.get(pk=gem_pack.pk).stock == 10


def test_an_expired_checkout_gives_back_the_stock_it_took(player, gem_pack):
    Offer.objects.filter(pk=gem_pack.pk).update(stock=10)
    purchase = start(player, gem_pack, "k", quantity=3)
    Offer.objects.filter(pk=gem_pack.pk).update(stock=None)  # made unlimited meanwhile
    other = start(player, gem_pack, "k2", quantity=1)
    Offer.objects.filter(pk=gem_pack.pk).update(stock=4)

    close_unpaid(purchase_id=other.pk, status=Purchase.Status.EXPIRED)  # took none
    close_unpaid(purchase_id=purchase.pk, status=Purchase.Status.EXPIRED)  # took 3

    assert (purchase.reserved_stock, other.reserved_stock) == (3, 0)
    assert Offer.objects.get(pk=gem_pack.pk).stock == 7


def test_an_expired_checkout_frees_no_limit_slot_it_never_took(player, gem_pack):
    first = start(player, gem_pack, "k1")  # no limit yet: no slot taken
    Offer.objects.filter(pk=gem_pack.pk).update(per_player_limit=1)
    start(player, gem_pack, "k2")  # takes the one slot

    close_unpaid(purchase_id=first.pk, status=Purchase.Status.EXPIRED)

    assert OfferPurchaseCount.objects.get(player=player, offer=gem_pack).count == 1
    with pytest.raises(PurchaseLimitReached):
        purchase_offer(player=player, offer_id=gem_pack.pk, quantity=1, idempotency_key="k3")


def test_a_premium_pass_paid_after_its_season_ended_is_flagged_not_granted(player, game):
    season, offer = premium_pass_offer(game)
    purchase = start(player, offer, "late")
    Season.objects.filter(pk=season.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    paid, balances = fulfil_purchase(purchase_id=purchase.pk)

    assert paid.status == Purchase.Status.PENDING and balances == {}
    assert paid.needs_attention
    assert paid.note.startswith(f"Paid but not granted: Season {season.pk} ended at")
    assert not SeasonPass.objects.filter(player=player, season=season, premium=True).exists()
    assert balance(player, "gems") == 0  # nothing of the offer granted either


def test_a_premium_pass_paid_for_twice_is_flagged(player, game):
    season, offer = premium_pass_offer(game)
    phone, console = start(player, offer, "phone"), start(player, offer, "console")

    first, _ = fulfil_purchase(purchase_id=phone.pk)
    second, balances = fulfil_purchase(purchase_id=console.pk)

    assert not first.needs_attention
    assert second.status == Purchase.Status.COMPLETED and balances == {"gems": 20}
    assert second.needs_attention
    assert f"premium pass of season {season.pk}, already held" in second.note
    assert SeasonPass.objects.get(player=player, season=season).premium_key.startswith(
        f"purchase:{phone.pk}:"
    )
