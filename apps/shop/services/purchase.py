"""`purchase_offer`: one purchase per Idempotency-Key. Virtual prices debit and grant in one
transaction; real-money offers start a payment and complete when the processor says so."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.api_base import TIMESTAMP
from apps.accounts.models import Player
from apps.inventory.errors import InsufficientFunds
from apps.inventory.models import MAX_AMOUNT
from apps.inventory.selectors import balances
from apps.inventory.services import Change
from apps.payments.errors import CheckoutInProgress
from apps.payments.models import Payment
from apps.payments.services import checkout
from apps.shop.errors import OfferNotFound
from apps.shop.models import Offer, Purchase
from apps.shop.selectors import find_offer_for_sale
from apps.shop.services.fulfilment import (
    close_unpaid,
    completion_statement,
    grant_offer,
    granted_lines,
    purchase_balances,
)
from apps.shop.services.limits import reserve
from gamingpanel.errors import DomainError
from gamingpanel.idempotency import IdempotencyKeyReused
from gamingpanel.problems import problem_body
from gamingpanel.sql import CompiledInsert

# Compiled once (gamingpanel.sql): a virtual purchase's row is the first statement of its
# transaction, on every purchase.
INSERT_PURCHASE = CompiledInsert.compile(Purchase)


@dataclass(frozen=True)
class PurchaseResult:
    status_code: int
    body: dict[str, Any]

    @property
    def is_problem(self) -> bool:
        return self.status_code >= 400


def request_fingerprint(*, offer_id: int, quantity: int) -> str:
    return hashlib.sha256(f"{offer_id}:{quantity}".encode()).hexdigest()


def purchase_offer(
    *, player: Player, offer_id: int, quantity: int, idempotency_key: str
) -> PurchaseResult:
    """The first answer for a key is stored and returned again for the same key (failures too),
    so a retried request never charges twice; the same key with another body is a 422."""
    fingerprint = request_fingerprint(offer_id=offer_id, quantity=quantity)
    offer: Offer | None = None
    try:
        with transaction.atomic():
            # First statement: the offer, held FOR KEY SHARE until the purchase commits. Every
            # rule is judged, and the price taken, on the offer as it is in this transaction:
            # an admin save (which reads the offer FOR UPDATE) waits for the purchases under
            # way, and one under way makes this read wait and then see what it saved. Purchases
            # do not wait on each other (their stock UPDATEs take no key lock).
            offer = find_offer_for_sale(game_id=player.game_id, offer_id=offer_id)
            if offer is None:
                raise OfferNotFound(f"No offer {offer_id} in this game.")
            if offer.price_amount * quantity > MAX_AMOUNT:
                raise _beyond_any_balance(player, offer, quantity)
            if not offer.real_money:
                return _buy_with_virtual(player, offer, quantity, idempotency_key, fingerprint)
            purchase = _reserve_with_money(player, offer, quantity, idempotency_key, fingerprint)
        # The processor is called outside any transaction: no row lock waits on the network.
        return _open_checkout(purchase)
    except CheckoutInProgress:
        raise  # the purchase stands, its checkout being opened by the other request
    except IntegrityError:
        # The key's row exists: another request with this key committed first (its insert is
        # what we waited on). Answer what it answered.
        replay = _replay(player, idempotency_key, fingerprint)
        if replay is None:
            raise
        return replay
    except DomainError as error:
        replay = _replay(player, idempotency_key, fingerprint)
        if replay is not None:
            return replay
        if offer is not None and error.status == 409:
            _remember_failure(player, offer, quantity, idempotency_key, fingerprint, error)
        raise


def _beyond_any_balance(player: Player, offer: Offer, quantity: int) -> InsufficientFunds:
    """The refusal of a total price no balance can hold (past MAX_AMOUNT): only an offer priced
    before authoring was bounded gets there. It is `insufficient_funds` as clients have always
    been answered, with the `needed` and `available` that code carries: the total and what the
    player holds of the currency (a real-money price is paid from no balance: 0). Read on this
    refusal only, never on a purchase."""
    needed = offer.price_amount * quantity
    available = 0
    if not offer.real_money:
        held = balances(player=player, codes=[offer.price_currency])
        available = held.get(offer.price_currency, 0)
    return InsufficientFunds(
        f"Needs {needed} {offer.price_currency}, has {available}: no balance can hold the "
        "price of this many units.",
        needed=needed,
        available=available,
    )


def _buy_with_virtual(
    player: Player, offer: Offer, quantity: int, key: str, fingerprint: str
) -> PurchaseResult:
    """Inside the purchase's transaction (purchase_offer)."""
    total = offer.price_amount * quantity
    # A concurrent request with the same key blocks on this insert until we commit, then fails
    # on the unique key and replays our answer. The row is written complete; any refusal below
    # rolls it back with everything else.
    purchase = Purchase(
        game_id=player.game_id,
        player=player,
        offer=offer,
        quantity=quantity,
        idempotency_key=key,
        request_hash=fingerprint,
        price_currency=offer.price_currency,
        price_amount=total,
        status=Purchase.Status.COMPLETED,
        completed_at=timezone.now(),
        granted=(lines := granted_lines(offer, quantity)),
        bought=lines,
        response_status=201,
    )
    INSERT_PURCHASE.insert(purchase)
    reserve(player=player, offer=offer, quantity=quantity, purchase_id=purchase.pk)
    debit = Change("currency", offer.price_currency, -total)
    balances = grant_offer(
        purchase=purchase,
        player=player,
        debit=debit,
        new_purchase=True,
        # The analytics fact runs just before the wallet locks, in the same round trip: the
        # locks are held for no more statements, and the purchase makes one trip fewer.
        along=[completion_statement(purchase=purchase, offer=offer, player=player)],
    ).balances
    return PurchaseResult(201, _completed_body(purchase, balances))


def _completed_body(purchase: Purchase, balances: dict[str, int]) -> dict[str, Any]:
    return virtual_purchase_body(
        purchase_id=purchase.pk, status=purchase.status, balances=balances, granted=purchase.granted
    )


def virtual_purchase_body(
    *, purchase_id: int, status: str, balances: dict[str, int], granted: list[dict]
) -> dict[str, Any]:
    """The 201 of a virtual purchase: its first answer, and every replay of it."""
    return {"purchase_id": purchase_id, "status": status, "balances": balances, "granted": granted}


def _reserve_with_money(
    player: Player, offer: Offer, quantity: int, key: str, fingerprint: str
) -> Purchase:
    """Inside the purchase's transaction (purchase_offer): the purchase, its stock and limit
    slot held, and its payment; the checkout opens after the commit."""
    provider = checkout.provider_for(game=player.game)
    purchase = Purchase.objects.create(
        game_id=player.game_id,
        player=player,
        offer=offer,
        quantity=quantity,
        idempotency_key=key,
        request_hash=fingerprint,
        real_money=True,
        provider=provider,
        price_currency=offer.price_currency,
        price_amount=offer.price_amount * quantity,
        bought=granted_lines(offer, quantity),
    )
    reserved = reserve(player=player, offer=offer, quantity=quantity, purchase_id=purchase.pk)
    Purchase.objects.filter(pk=purchase.pk).update(
        reserved_stock=reserved.stock, reserved_slots=reserved.slots
    )
    checkout.create_payment(
        game_id=player.game_id,
        purchase_id=purchase.pk,
        provider=provider,
        amount=purchase.price_amount,
        currency=purchase.price_currency,
    )
    return purchase


def _open_checkout(purchase: Purchase) -> PurchaseResult:
    try:
        payment = checkout.open_checkout(
            purchase_id=purchase.pk,
            name=purchase.offer.name,
            quantity=purchase.quantity,
            # The price the purchase was made at, not the offer's now: a replay after a reprice
            # sends Stripe the same request under the same key (a changed one it refuses).
            unit_amount=purchase.price_amount // purchase.quantity,
        )
    except CheckoutInProgress:
        # Another request with this key is opening this very checkout: it stores the answer
        # (the session, or the refusal that ends the purchase); closing it here would end a
        # purchase whose checkout the other request hands out.
        raise
    except DomainError as error:
        # Nothing was charged: the payment fails, the purchase ends (its stock and limit slot
        # given back) and its key stores this error, in one transaction: a process dying between
        # two would leave a failed payment's purchase holding its reservation, which no sweep
        # looks for. Locks in the order every path takes: payment, purchase, counter, offer.
        with transaction.atomic():
            failed = checkout.mark_checkout_failed(purchase_id=purchase.pk, error=error)
            if failed:
                close_unpaid(
                    purchase_id=purchase.pk,
                    status=Purchase.Status.FAILED,
                    note=error.code,
                    outcome=error.code,
                )
                store_response(purchase=purchase, status_code=error.status, body=problem_of(error))
        if not failed and (opened := checkout.checkout_opened(purchase_id=purchase.pk)):
            # A retry of this purchase opened the checkout while this attempt's call failed
            # (a timeout after the processor had made the session): the buyer holds that
            # checkout, so the purchase stands and this attempt answers it too.
            return store_pending_answer(purchase, opened)
        # Failed here; or another attempt (or the sweeper) closed it first, which ends the
        # purchase and stores the key's answer (its own error, not this one).
        raise
    return store_pending_answer(purchase, payment)


def store_pending_answer(purchase: Purchase, payment: Payment) -> PurchaseResult:
    """A purchase waiting for its payment, with the checkout to pay it (stored for its key)."""
    body = {
        "purchase_id": purchase.pk,
        "status": Purchase.Status.PENDING.value,
        "payment": {
            "provider": payment.provider,
            "payment_id": payment.pk,
            "checkout_url": payment.checkout_url,
            "external_id": payment.external_id,
            "amount": payment.amount,
            "currency": payment.currency,
            "expires_at": checkout_end(payment),
        },
    }
    store_response(purchase=purchase, status_code=202, body=body)
    return PurchaseResult(202, body)


def checkout_end(payment: Payment) -> str | None:
    """When the payment's open checkout ends unpaid, as the API writes times (None: no end)."""
    ends = payment.expires_at
    return None if ends is None else TIMESTAMP.to_representation(ends)


def _replay(player: Player, key: str, fingerprint: str) -> PurchaseResult | None:
    purchase = Purchase.objects.filter(player=player, idempotency_key=key).first()
    if purchase is None:
        return None
    if purchase.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different request; use a new key."
        )
    if purchase.response_body is None and not purchase.real_money:
        # A virtual purchase stores no body: its first answer is rebuilt from its ledger.
        return PurchaseResult(201, _completed_body(purchase, purchase_balances(purchase=purchase)))
    if purchase.response_body is None:
        # A real-money purchase whose checkout was not opened yet (a crash or a concurrent
        # first request): opening it is idempotent with the processor, so do it here.
        return _open_checkout(purchase)
    assert purchase.response_status is not None  # stored with the body
    return PurchaseResult(purchase.response_status, purchase.response_body)


def _remember_failure(
    player: Player, offer: Offer, quantity: int, key: str, fingerprint: str, error: DomainError
) -> None:
    """Store a refused purchase so the same key answers the same refusal again."""
    body = problem_of(error)
    try:
        with transaction.atomic():
            Purchase.objects.create(
                game_id=player.game_id,
                player=player,
                offer=offer,
                quantity=quantity,
                idempotency_key=key,
                request_hash=fingerprint,
                status=Purchase.Status.FAILED,
                real_money=offer.real_money,
                price_currency=offer.price_currency,
                price_amount=min(offer.price_amount * quantity, MAX_AMOUNT),  # fits the column
                response_status=error.status,
                response_body=body,
                note=error.code,
                outcome=error.code,
            )
    except IntegrityError:
        pass  # a concurrent request with this key stored its answer; ours is replaced by it


def record_store_purchase(
    *, player: Player, offer: Offer, provider: str, key: str, quantity: int = 1
) -> Purchase:
    """Inside the caller's transaction: a purchase the platform store already charged for
    (`quantity` units in one store transaction). No availability, limit or stock check: the
    buyer has paid, so the grant is owed."""
    return Purchase.objects.create(
        game_id=player.game_id,
        player=player,
        offer=offer,
        quantity=quantity,
        source=Purchase.Source.RECEIPT,
        idempotency_key=key,
        real_money=True,
        provider=provider,
        price_currency=offer.price_currency,
        price_amount=offer.price_amount * quantity,
        bought=granted_lines(offer, quantity),
    )


def store_response(*, purchase: Purchase, status_code: int, body: dict[str, Any]) -> None:
    """The first answer wins: a stored answer is never replaced."""
    Purchase.objects.filter(pk=purchase.pk, response_body__isnull=True).update(
        response_status=status_code, response_body=body
    )


def problem_of(error: DomainError) -> dict[str, Any]:
    """The problem body a purchase's key stores for a refusal (and answers again)."""
    return problem_body(
        status=error.status, code=error.code, title=error.title, detail=error.detail, **error.extra
    )
