"""Store purchases (App Store, Google Play): the client sends the store's receipt, we verify it
with the store and grant once per store transaction id, however often it is sent."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import Player
from apps.payments.errors import (
    InvalidReceipt,
    ProviderNotConfigured,
    ReceiptAlreadyUsed,
    ReceiptProductMismatch,
    UnknownProvider,
)
from apps.payments.models import Payment, Provider
from apps.payments.providers import apple, google_play
from apps.payments.providers.base import VerifiedReceipt
from apps.payments.selectors import enabled_account, payment_by_external_id
from apps.shop.errors import NotARealMoneyOffer
from apps.shop.models import Offer
from apps.shop.selectors import offer_in_game
from apps.shop.services.fulfilment import fulfil_purchase
from apps.shop.services.purchase import PurchaseResult, record_store_purchase, store_response

STORES = {Provider.APPLE: "apple_product_id", Provider.GOOGLE_PLAY: "google_product_id"}


def redeem_receipt(
    *, player: Player, provider: str, offer_id: int, receipt: object
) -> PurchaseResult:
    if provider not in STORES:
        raise UnknownProvider(f"Receipts come from {', '.join(STORES)}, not {provider!r}.")
    offer = offer_in_game(game_id=player.game_id, offer_id=offer_id)
    product_id = getattr(offer, STORES[provider])
    if not product_id:
        raise NotARealMoneyOffer(f"This offer has no {provider} product id.")
    account = enabled_account(game_id=player.game_id, provider=provider)
    if account is None:
        raise ProviderNotConfigured(f"This game has no enabled {provider} account.")
    if provider == Provider.APPLE:
        verified = apple.verify_transaction(account=account, receipt=receipt)
    else:
        verified = google_play.verify_purchase(
            account=account, receipt=receipt, product_id=product_id
        )
    if verified.product_id != product_id:
        raise ReceiptProductMismatch(f"The receipt is for {verified.product_id}, not this offer.")
    if (replay := _replay(player, provider, verified)) is not None:
        return replay
    try:
        return _grant(player, offer, provider, verified)
    except IntegrityError:
        # The same transaction, sent twice at once: the other request granted it.
        if (replay := _replay(player, provider, verified)) is not None:
            return replay
        # Store transaction ids are global: one already granted in another game stays there.
        raise ReceiptAlreadyUsed("This store transaction was already redeemed in another game.")


def _store_quantity(verified: VerifiedReceipt) -> int:
    quantity = verified.details.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise InvalidReceipt("The store transaction has no valid quantity.")
    return quantity


def _grant(
    player: Player, offer: Offer, provider: str, verified: VerifiedReceipt
) -> PurchaseResult:
    with transaction.atomic():
        purchase = record_store_purchase(
            player=player,
            offer=offer,
            provider=provider,
            key=f"{provider}:{verified.transaction_id}",
            quantity=_store_quantity(verified),
        )
        # Unique per game, provider and store transaction id: the grant happens once.
        payment = Payment.objects.create(
            game_id=player.game_id,
            purchase=purchase,
            provider=provider,
            external_id=verified.transaction_id,
            payment_reference=verified.payment_reference,
            status=Payment.Status.SUCCEEDED,
            amount=purchase.price_amount,
            currency=purchase.price_currency,
            details={"environment": verified.environment, **verified.details},
        )
        purchase, balances = fulfil_purchase(purchase_id=purchase.pk)
        body: dict[str, Any] = {
            "purchase_id": purchase.pk,
            "status": purchase.status,
            "balances": balances,
            "granted": purchase.granted,
            "transaction_id": verified.transaction_id,
        }
        status_code = 201 if purchase.status == "completed" else 202
        store_response(purchase=purchase, status_code=status_code, body=body)
        if provider == Provider.GOOGLE_PLAY:
            from apps.payments.tasks import finish_google_purchase

            transaction.on_commit(lambda: finish_google_purchase.delay(payment.pk), robust=True)
    return PurchaseResult(status_code, body)


def _replay(player: Player, provider: str, verified: VerifiedReceipt) -> PurchaseResult | None:
    payment = payment_by_external_id(
        game_id=player.game_id, provider=provider, external_id=verified.transaction_id
    )
    if payment is None:
        return None
    if payment.purchase.player_id != player.pk:
        raise ReceiptAlreadyUsed("Another player already redeemed this store transaction.")
    return PurchaseResult(200, payment.purchase.response_body or {})
