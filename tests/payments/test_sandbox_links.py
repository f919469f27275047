"""The sandbox checkout and return pages are the payer's: they name a payment by an unguessable
token that only the paying player's purchase answer carries, never by its sequential id."""

from __future__ import annotations

import pytest

from apps.payments.models import Payment, SandboxCallback
from apps.shop.models import Purchase
from tests.payments.test_sandbox_checkout import start

pytestmark = pytest.mark.usefixtures("sandbox_callbacks")


def post(client, token, body, content_type="application/json"):
    return client.post(f"/payments/sandbox/checkout/{token}", body, content_type=content_type)


@pytest.fixture
def payment(player_client, real_offer) -> Payment:
    start(player_client, real_offer)
    return Payment.objects.get()


def test_links_carry_a_random_token_not_the_id(player_client, real_offer):
    first = start(player_client, real_offer, key="a").json()["payment"]
    second = start(player_client, real_offer, key="b").json()["payment"]
    tokens = [p["checkout_url"].rsplit("/", 1)[1] for p in (first, second)]

    assert all(len(token) >= 43 for token in tokens)  # 256 random bits, URL-safe base64
    assert tokens[0] != tokens[1]
    assert tokens[0] != str(first["payment_id"])
    assert tokens == list(Payment.objects.order_by("pk").values_list("public_token", flat=True))


def test_the_id_or_a_wrong_token_finds_nothing(client, payment):
    nul = payment.public_token[:-1] + "%00"  # U+0000: PostgreSQL refuses it in a query
    for guess in (str(payment.pk), payment.public_token[:-1] + "A", "x" * 43, nul, "é" * 43):
        if guess == payment.public_token:
            continue
        assert client.get(f"/payments/sandbox/checkout/{guess}").status_code == 404
        assert client.get(f"/payments/return/{guess}").status_code == 404
        response = post(client, guess, {"action": "paid"})
        assert response.status_code == 404
        assert response.json()["code"] == "payment_not_found"
    assert not SandboxCallback.objects.exists()


def test_the_return_page_shows_its_own_payment(client, payment):
    response = client.get(f"/payments/return/{payment.public_token}")

    assert response.status_code == 200
    assert "Payment checkout created" in response.content.decode()


def test_the_buyer_can_cancel(client, payment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payment.public_token, {"action": "cancel"})

    assert response.status_code == 202
    assert response.json() == {"action": "cancel", "callback": "scheduled"}
    assert Purchase.objects.get().status == "failed"
    assert Payment.objects.get().status == "failed"
    assert post(client, payment.public_token, {"action": "paid"}).status_code == 403


def test_pay_then_cancel_before_the_callback_is_409_and_pay_again_is_the_same(client, payment):
    # No on-commit run: the first callback is still on its way.
    assert post(client, payment.public_token, {"action": "paid"}).status_code == 202
    again = post(client, payment.public_token, {"action": "paid"})
    cancel = post(client, payment.public_token, {"action": "cancel"})

    assert again.status_code == 202
    assert cancel.status_code == 409
    assert cancel.json()["code"] == "checkout_already_submitted"
    assert SandboxCallback.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "refund"}, "refund_by_operator_only"),
        ({"action": "steal"}, "unknown_checkout_action"),
        ({"action": ["paid"]}, "unknown_checkout_action"),
        ("[1, 2]", "malformed_json"),
        ("{not json", "malformed_json"),
        ("[" * 100_000, "malformed_json"),
    ],
)
def test_bad_input_is_problem_json_with_a_stable_code(client, payment, body, code):
    response = post(client, payment.public_token, body)

    assert response.status_code in (400, 403)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert not SandboxCallback.objects.exists()


def test_a_form_post_that_cannot_be_done_shows_the_page_with_why(client, payment):
    response = post(
        client, payment.public_token, "action=refund", "application/x-www-form-urlencoded"
    )

    assert response.status_code == 403
    assert "an operator of the game refunds" in response.content.decode()


def test_a_live_games_payment_has_no_sandbox_checkout(client, game, payment):
    game.sandbox = False
    game.save()

    assert client.get(f"/payments/sandbox/checkout/{payment.public_token}").status_code == 404
    assert post(client, payment.public_token, {"action": "paid"}).status_code == 403


def test_the_payment_admin_shows_no_checkout_link(client, player, real_offer, settings):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import GameAccess
    from apps.accounts.services import set_game_access
    from apps.payments.models import Payment
    from apps.shop.services.purchase import purchase_offer

    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    payment = Payment.objects.get()
    assert payment.public_token in payment.checkout_url  # the sandbox link is its authority
    analyst = get_user_model().objects.create_user("ana", password="pw-long-enough-1")
    set_game_access(user=analyst, game=player.game, role=GameAccess.Role.ANALYST)
    client.force_login(analyst)

    page = client.get(f"/admin/payments/payment/{payment.pk}/change/")

    assert page.status_code == 200
    assert payment.public_token not in page.content.decode()
