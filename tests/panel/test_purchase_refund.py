"""Refunding a sandbox payment is an operator's act, from the panel: audited, for operators and
owners of the purchase's game only (analysts 403, another game's purchase 404). The sandbox
processor's signed refund callback then reverses the purchase through the ledger."""

from __future__ import annotations

import pytest
from django.test import TestCase

from apps.audit.models import AuditLogEntry
from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, SandboxCallback
from apps.payments.services.sandbox import buyer_action
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.panel.confirming import confirmation_fields, is_confirmation
from tests.payments.conftest import mocked_http, sandbox_callbacks  # noqa: F401 (fixtures)
from tests.shop.helpers import balance, make_economy, make_offer

pytestmark = pytest.mark.usefixtures("sandbox_callbacks")


def paid_purchase(game, player) -> Purchase:
    make_economy(game)
    offer = make_offer(
        game,
        name="Pile of gems",
        real_money=True,
        price_currency="USD",
        price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}],
    )
    purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    with TestCase.captureOnCommitCallbacks(execute=True):
        buyer_action(token=Payment.objects.get().public_token, action="paid")
    purchase = Purchase.objects.get()
    assert purchase.status == "completed"
    return purchase


def refund_url(game, purchase) -> str:
    return f"/panel/games/{game.pk}/purchases/{purchase.pk}/refund"


def refund(client, game, purchase, reason="asked by mail"):
    """The refund form, then its confirmation (asked only of someone who may refund)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        asked = client.post(refund_url(game, purchase), {"reason": reason}, follow=True)
        if not is_confirmation(asked):
            return asked
        return client.post(refund_url(game, purchase), confirmation_fields(asked), follow=True)


def test_an_operator_refunds_from_the_panel_audited(operator_client, operator, game, player):
    purchase = paid_purchase(game, player)
    page = operator_client.get(f"/panel/games/{game.pk}/players/{player.pk}/")
    assert refund_url(game, purchase) in page.content.decode()

    response = refund(operator_client, game, purchase)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/panel/games/{game.pk}/players/{player.pk}/"
    assert "Refund of purchase" in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == "refunded"
    assert balance(player, "gems") == 0
    assert Payment.objects.get().status == "refunded"
    callback = SandboxCallback.objects.get(action="refund")
    assert (callback.status, callback.requested_by) == ("delivered", operator)
    entry = AuditLogEntry.objects.get(action="payments.refund")
    assert (entry.actor, entry.game, entry.reason) == (operator, game, "asked by mail")
    assert entry.before == {"status": "succeeded"}
    assert entry.target_id == str(Payment.objects.get().pk)

    # Pressed again: nothing more is reversed.
    again = refund(operator_client, game, purchase)
    assert "Nothing changed" in again.content.decode()
    assert LedgerEntry.objects.filter(reason="refund").count() == 1
    assert AuditLogEntry.objects.filter(action="payments.refund").count() == 1


def test_an_analyst_may_not_refund(analyst_client, game, player):
    purchase = paid_purchase(game, player)
    page = analyst_client.get(f"/panel/games/{game.pk}/players/{player.pk}/")
    assert refund_url(game, purchase) not in page.content.decode()

    response = refund(analyst_client, game, purchase)

    assert response.status_code == 403
    assert Purchase.objects.get().status == "completed"
    assert not SandboxCallback.objects.filter(action="refund").exists()
    assert not AuditLogEntry.objects.filter(action="payments.refund").exists()


def test_another_games_purchase_is_404(operator_client, other_operator, game, other_game, player):
    from tests.panel.conftest import client_for

    purchase = paid_purchase(game, player)

    # An operator of game B, on game A's URL or on B's with A's purchase id: never found.
    assert refund(client_for(other_operator), game, purchase).status_code == 404
    assert refund(client_for(other_operator), other_game, purchase).status_code == 404
    assert Purchase.objects.get().status == "completed"
    assert not SandboxCallback.objects.filter(action="refund").exists()


def test_a_refund_needs_a_post(operator_client, game, player):
    purchase = paid_purchase(game, player)

    assert operator_client.get(refund_url(game, purchase)).status_code == 405
    assert Purchase.objects.get().status == "completed"


def test_a_paid_purchase_flagged_instead_of_granted_can_be_refunded(operator_client, game, player):
    """Paid but not granted (the processor reported another amount): the money was taken, so
    the operator can give it back from the same table."""
    make_economy(game)
    offer = make_offer(game, real_money=True, price_currency="USD", price_amount=199)
    purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    Payment.objects.update(amount=1)  # what the sandbox will report having charged
    with TestCase.captureOnCommitCallbacks(execute=True):
        buyer_action(token=Payment.objects.get().public_token, action="paid")
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("pending", True)
    page = operator_client.get(f"/panel/games/{game.pk}/players/{player.pk}/")
    assert refund_url(game, purchase) in page.content.decode()

    refund(operator_client, game, purchase)

    assert Purchase.objects.get().status == "refunded"
    assert Payment.objects.get().status == "refunded"
    assert not LedgerEntry.objects.exists()


def test_a_second_press_while_the_refund_is_on_its_way_writes_no_second_entry(
    operator_client, game, player
):
    purchase = paid_purchase(game, player)

    asked = operator_client.post(refund_url(game, purchase), {"reason": "asked by mail"})
    for _ in range(2):  # the callback is not delivered in between (no on-commit run here)
        operator_client.post(refund_url(game, purchase), confirmation_fields(asked))

    assert SandboxCallback.objects.filter(action="refund").count() == 1
    assert AuditLogEntry.objects.filter(action="payments.refund").count() == 1


def test_a_refund_needs_a_reason(operator_client, game, player):
    purchase = paid_purchase(game, player)

    response = refund(operator_client, game, purchase, reason="  ")

    assert "a refund needs a reason" in response.content.decode()
    assert not SandboxCallback.objects.filter(action="refund").exists()
    assert not AuditLogEntry.objects.filter(action="payments.refund").exists()
    assert Purchase.objects.get(pk=purchase.pk).status == "completed"
