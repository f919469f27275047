"""The sandbox processor's side: the buyer pressed Pay (or an operator simulates a refund)."""

from __future__ import annotations

from django.db import transaction

from apps.payments.errors import PaymentNotFound, SandboxOnly
from apps.payments.models import Payment, Provider
from apps.payments.selectors import sandbox_payment
from apps.payments.tasks import deliver_sandbox_callback

ACTIONS = {"paid": Payment.Status.CREATED, "refund": Payment.Status.SUCCEEDED}


def simulate(*, payment_pk: int, action: str = "paid") -> Payment:
    """Schedule the processor's signed callback for `action` ("paid" or "refund"), as the
    processor would send it after the buyer paid: asynchronously, with retries."""
    payment = sandbox_payment(payment_pk=payment_pk)
    if payment is None:
        raise PaymentNotFound("No sandbox payment with this id.")
    if payment.provider != Provider.SANDBOX or not payment.game.sandbox:
        raise SandboxOnly("Only sandbox payments of sandbox games can be simulated.")
    if action not in ACTIONS:
        raise SandboxOnly(f"The sandbox simulates {', '.join(ACTIONS)}, not {action!r}.")
    if payment.status != ACTIONS[action]:
        raise SandboxOnly(f"A {payment.status} payment cannot be {action}.")
    transaction.on_commit(lambda: deliver_sandbox_callback.delay(payment.pk, action), robust=True)
    return payment
