"""Stripe counts a few currencies otherwise than ISO 4217's minor units (the contract's): the
checkout sends Stripe's amount, and a completion's amount is read back in ISO units."""

from urllib.parse import parse_qs

import pytest

from apps.shop.models import Offer, Purchase
from tests.payments.conftest import post_stripe
from tests.payments.test_stripe import completed, start
from tests.shop.helpers import balance

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("currency", "iso_amount", "sent"),
    [
        ("USD", 199, "199"),
        ("JPY", 500, "500"),  # zero-decimal in both
        ("ISK", 990, "99000"),  # ISO: whole kronur; Stripe: still two decimals
        ("MGA", 1234500, "12345"),  # ISO: two decimals; Stripe: zero-decimal
        ("KWD", 1500, "1500"),  # three decimals in both
    ],
)
def test_the_checkout_sends_stripes_amount(
    player_client, real_offer, checkout, currency, iso_amount, sent
):
    Offer.objects.filter(pk=real_offer.pk).update(price_currency=currency, price_amount=iso_amount)

    response = start(player_client, real_offer)

    assert response.status_code == 202, response.json()
    assert response.json()["payment"]["amount"] == iso_amount  # the contract's units
    form = parse_qs(checkout.calls[0].request.body)
    assert form["line_items[0][price_data][unit_amount]"] == [sent]


@pytest.mark.parametrize(("currency", "iso_amount"), [("MGA", 1234550), ("KWD", 1505)])
def test_a_price_stripe_cannot_charge_exactly_is_refused_before_any_call(
    player_client, real_offer, checkout, currency, iso_amount
):
    Offer.objects.filter(pk=real_offer.pk).update(price_currency=currency, price_amount=iso_amount)

    response = start(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert "change the offer's price" in response.json()["detail"]
    assert len(checkout.calls) == 0
    assert Purchase.objects.get().status == Purchase.Status.FAILED


def test_a_completion_in_stripes_units_matches_the_iso_price(
    api_client, player_client, player, real_offer, checkout
):
    Offer.objects.filter(pk=real_offer.pk).update(price_currency="ISK", price_amount=990)
    purchase_id = start(player_client, real_offer).json()["purchase_id"]

    response = post_stripe(
        api_client, completed(purchase_id=purchase_id, amount_total=99000, currency="isk")
    )

    assert response.status_code == 200
    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.COMPLETED and not purchase.needs_attention
    assert balance(player, "gems") == 100
