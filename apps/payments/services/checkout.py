"""Starting a real-money payment: which processor, the payment row, the checkout session."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from apps.accounts.models import Game
from apps.payments.errors import ProviderNotConfigured, ProviderUnavailable
from apps.payments.models import Payment, Provider, ProviderAccount
from apps.payments.providers import sandbox, stripe
from gamingpanel.errors import DomainError


def provider_for(*, game: Game) -> str:
    """A game with an enabled Stripe account pays with Stripe; a sandbox game without one uses
    the sandbox processor; anything else cannot sell for real money through checkout."""
    if ProviderAccount.objects.filter(game=game, provider=Provider.STRIPE, enabled=True).exists():
        return Provider.STRIPE
    if game.sandbox:
        return Provider.SANDBOX
    raise ProviderNotConfigured("This game has no payment processor for real-money offers.")


def create_payment(
    *, game_id: int, purchase_id: int, provider: str, amount: int, currency: str
) -> Payment:
    """Inside the purchase's transaction."""
    return Payment.objects.create(
        game_id=game_id,
        purchase_id=purchase_id,
        provider=provider,
        amount=amount,
        currency=currency,
    )


def open_checkout(*, purchase_id: int, name: str, quantity: int, unit_amount: int) -> Payment:
    """Open (or find again) the processor's checkout for this purchase's payment (`name`,
    `quantity` and `unit_amount` are what the buyer sees). Idempotent: Stripe gets an
    Idempotency-Key per payment, the sandbox's session id is the payment's."""
    payment = Payment.objects.get(purchase_id=purchase_id)
    if payment.checkout_url:
        return payment
    if payment.status != Payment.Status.CREATED:
        raise _closed_meanwhile()
    ends_at = checkout_deadline(payment)
    if payment.provider == Provider.SANDBOX:
        external_id, url = f"sbx_{payment.pk}", sandbox.checkout_url(payment)
    else:
        account = ProviderAccount.objects.filter(
            game_id=payment.game_id, provider=payment.provider, enabled=True
        ).first()
        if account is None:
            raise ProviderNotConfigured(f"This game's {payment.provider} account is disabled.")
        session = stripe.create_checkout_session(
            account=account,
            payment=payment,
            name=name,
            quantity=quantity,
            unit_amount=unit_amount,
            ends_at=ends_at,
        )
        external_id, url = session["id"], session["url"]
        # The session's own end, as Stripe set it: the buyer can pay until then, so the
        # expiry sweep waits for it (a session opened by a late retry ends later).
        ends_at = stripe.session_end(session) or ends_at
    # Stored only on a payment still waiting for its checkout: one that a failed attempt of
    # the same purchase (or the sweeper) closed meanwhile ended its purchase, and a URL handed
    # out now would take money for nothing.
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED, checkout_url="").update(
        external_id=external_id, checkout_url=url, expires_at=ends_at
    )
    payment.refresh_from_db()
    if not payment.checkout_url:
        raise _closed_meanwhile()
    return payment


def checkout_deadline(payment: Payment) -> datetime:
    """When the payment's checkout ends if nobody pays: CHECKOUT_EXPIRY_SECONDS after its
    purchase began, in whole seconds as Stripe counts it. Fixed per payment, so every retry asks
    the processor for the same end (Stripe refuses an idempotency key sent again with other
    parameters)."""
    ends = payment.created_at + timedelta(seconds=settings.CHECKOUT_EXPIRY_SECONDS)
    return ends.replace(microsecond=0)


def _closed_meanwhile() -> ProviderUnavailable:
    return ProviderUnavailable(
        "This purchase's checkout was closed (a failed attempt, or never opened in time); "
        "the purchase has ended."
    )


@transaction.atomic
def mark_checkout_failed(*, purchase_id: int, error: DomainError) -> bool:
    """The payment fails, unless another attempt of the same purchase opened its checkout
    meanwhile (the processor answered that one): False then, and that checkout stands."""
    return bool(
        Payment.objects.filter(
            purchase_id=purchase_id, status=Payment.Status.CREATED, checkout_url=""
        ).update(status=Payment.Status.FAILED, details={"error": error.detail})
    )


def checkout_opened(*, purchase_id: int) -> Payment | None:
    """The purchase's payment, if its checkout was opened."""
    return Payment.objects.filter(purchase_id=purchase_id).exclude(checkout_url="").first()
