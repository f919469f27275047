"""A Google Play purchase without an orderId is known by its purchase token (a credential): the
shop's purchase admin, every printed payment and the panel's purchase pages show it masked."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from apps.accounts.models import Player
from apps.payments.models import Payment
from apps.shop.models import Purchase
from gamingpanel.crypto import mask
from tests.panel.conftest import client_for, make_user
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    LONG_TOKEN,
    google,
    play,
    redeem_orderless,
    service_key,
)


@pytest.fixture
def orderless(player_client, real_offer, google, play) -> Payment:  # noqa: F811 - fixtures
    payment = redeem_orderless(player_client, real_offer, play)
    purchase = Purchase.objects.get(pk=payment.purchase_id)
    assert LONG_TOKEN in purchase.idempotency_key
    assert LONG_TOKEN in str(purchase.response_body)
    return payment


def test_the_purchase_admin_masks_the_token_its_key_and_answer_hold(admin_client, orderless):
    purchase = Purchase.objects.get(pk=orderless.purchase_id)
    change = f"/admin/shop/purchase/{purchase.pk}/change/"

    for url, query in (
        (change, {}),
        (f"/admin/shop/purchase/{purchase.pk}/history/", {}),
        ("/admin/shop/purchase/", {}),
        ("/admin/shop/purchase/", {"q": str(purchase.pk)}),
        ("/admin/shop/purchase/", {"q": str(purchase.player_id)}),
    ):
        page = admin_client.get(url, query)
        assert page.status_code == 200, url
        assert LONG_TOKEN not in page.content.decode(), (url, query)

    shown = admin_client.get(change).content.decode()
    assert f"google_play§{mask(LONG_TOKEN)}" in shown  # the key, recognisable
    assert f'"transaction_id": "{mask(LONG_TOKEN)}"' in shown.replace("&quot;", '"')  # the answer
    assert "Ledger entries" in shown and "purchase_id" in shown


def test_a_purchase_with_an_order_id_shows_its_key_as_it_is(
    admin_client,
    player_client,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
):
    from tests.payments.test_google_play import purchase_state, redeem

    purchase_state(play)
    assert redeem(player_client, real_offer).status_code == 201
    purchase = Purchase.objects.get()

    page = admin_client.get(f"/admin/shop/purchase/{purchase.pk}/change/").content.decode()

    assert "google_play§GPA.1234-5678" in page  # an order id is not a credential


def test_a_printed_payment_names_the_token_masked(orderless, caplog):
    shown = str(orderless)

    assert LONG_TOKEN not in shown and mask(LONG_TOKEN) in shown
    with caplog.at_level(logging.INFO):
        logging.getLogger("tests").info("payment %s", orderless)
    assert LONG_TOKEN not in caplog.text


def test_a_payment_with_an_order_id_is_printed_with_it(game):
    from tests.shop.helpers import make_economy, make_offer

    make_economy(game)
    offer = make_offer(game, real_money=True, price_currency="USD", price_amount=1)
    purchase = Purchase.objects.create(
        game=game,
        player=Player.objects.create(game=game, display_name="p"),
        offer=offer,
        price_currency="USD",
        price_amount=1,
    )
    payment = Payment.objects.create(
        game=game,
        purchase=purchase,
        provider="google_play",
        external_id="GPA.1111-2222",
        payment_reference="a-token-of-this-purchase",
    )

    assert str(payment) == "google_play GPA.1111-2222 (created)"


def test_pages_linking_to_the_payment_and_the_audit_log_show_the_token_masked(
    admin_client, orderless
):
    from apps.audit.services import record_action

    entry = record_action(
        actor=None, game=orderless.game, action="payments.refund", target=orderless
    )

    assert LONG_TOKEN not in entry.target_repr
    page = admin_client.get("/admin/audit/auditlogentry/").content.decode()
    assert LONG_TOKEN not in page and mask(LONG_TOKEN) in page


def test_the_panels_purchase_pages_do_not_show_the_token(orderless):
    owner = make_user("owner", orderless.game, "owner")
    purchase = Purchase.objects.get(pk=orderless.purchase_id)
    client = client_for(owner)

    page = client.get(reverse("panel:player", args=[orderless.game_id, purchase.player_id]))
    refund = client.post(
        reverse("panel:purchase-refund", args=[orderless.game_id, purchase.pk]),
        {"reason": "asked"},
    )

    assert page.status_code == 200
    assert LONG_TOKEN not in page.content.decode()
    assert refund.status_code in (200, 302)
    assert LONG_TOKEN not in refund.content.decode()
