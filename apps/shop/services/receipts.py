"""Store purchases (App Store, Google Play): the client sends the store's receipt; payments
verifies it with the store, and the offer is granted once per store transaction id, however
often it is sent."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import Player
from apps.payments.errors import ReceiptAlreadyUsed, UnknownProvider
from apps.payments.models import Provider
from apps.payments.providers.base import VerifiedReceipt
from apps.payments.selectors import payment_by_external_id
from apps.payments.services.receipts import (
    finish_again_if_owed,
    finish_with_store_after_commit,
    record_store_payment,
    store_quantity,
    verify_receipt,
)
from apps.shop.errors import NotARealMoneyOffer, StoreProductAmbiguous
from apps.shop.models import Offer, Purchase
from apps.shop.selectors import offer_in_game, offers_with_store_product
from apps.shop.services.fulfilment import appended_note, fulfil_purchase
from apps.shop.services.limits import count_store_purchase
from apps.shop.services.purchase import PurchaseResult, record_store_purchase, store_response

logger = logging.getLogger(__name__)

PRODUCT_FIELDS: dict[str, str] = {
    Provider.APPLE: "apple_product_id",
    Provider.GOOGLE_PLAY: "google_product_id",
}

# A store purchase's row is keyed by its store transaction, in the column (and unique per player)
# where the shop keeps clients' Idempotency-Keys. "§" is not printable ASCII, which every
# Idempotency-Key is (gamingpanel.idempotency), so no client's key is ever a transaction's: a
# player whose virtual purchase went under the key "google_play:GPA.1234-5678" still redeems
# that order (the key was "<provider>:<id>" until 2026-12, and a client could take it first).
# One character for the colon: a key as long as the column holds stays so (google_play's
# MAX_TOKEN_AS_ID). Rows keyed before keep their colon: a replay finds a transaction by its
# payment, never by this key.
STORE_KEY_SEPARATOR = "\u00a7"


def store_purchase_key(provider: str, transaction_id: str) -> str:
    return f"{provider}{STORE_KEY_SEPARATOR}{transaction_id}"


def redeem_receipt(
    *, player: Player, provider: str, offer_id: int, receipt: object
) -> PurchaseResult:
    if provider not in PRODUCT_FIELDS:
        raise UnknownProvider(f"Receipts come from {', '.join(PRODUCT_FIELDS)}, not {provider!r}.")
    offer = offer_in_game(game_id=player.game_id, offer_id=offer_id)
    product_id = getattr(offer, PRODUCT_FIELDS[provider])
    if not product_id:
        raise NotARealMoneyOffer(f"This offer has no {provider} product id.")
    if not offer.real_money:
        # A store payment is money: recorded against a price in gold it would be a "real-money"
        # purchase of 100 gold (revenue figures) or fail on the payment's 3-letter currency.
        raise NotARealMoneyOffer("This offer is priced in a virtual currency: buy it in the shop.")
    verified = verify_receipt(
        game_id=player.game_id,
        provider=provider,
        product_id=product_id,
        receipt=receipt,
        player_id=player.pk,
    )
    if (replay := _replay(player, provider, verified)) is not None:
        return replay
    _refuse_ambiguous_product(player.game_id, provider, product_id)
    try:
        return _grant(player, offer, provider, verified)
    except IntegrityError:
        # The same transaction, sent twice at once: the other request granted it.
        if (replay := _replay(player, provider, verified)) is not None:
            return replay
        # Store transaction ids are global: one already granted in another game stays there.
        raise ReceiptAlreadyUsed("This store transaction was already redeemed in another game.")


def _refuse_ambiguous_product(game_id: int, provider: str, product_id: str) -> None:
    """The client names the offer, the store only the product: when several offers of the game
    carry the product (rows saved before offers were checked for it), none is granted rather
    than the one the client chose, which may be an inactive one with richer contents. Checked
    after a replay, so a transaction granted before still answers as it did."""
    offers = offers_with_store_product(
        game_id=game_id, field=PRODUCT_FIELDS[provider], product_id=product_id
    )
    if len(offers) > 1:
        logger.error(
            "ALERT shop: game %s: %s product %r is on offers %s; its receipts are refused until "
            "an operator leaves it on one offer",
            game_id,
            provider,
            product_id,
            offers,
        )
        raise StoreProductAmbiguous(
            f"Several offers of this game sell {provider} product {product_id!r}; the game's "
            "operators must leave it on one. Nothing was granted; send the receipt again later."
        )


def _grant(
    player: Player, offer: Offer, provider: str, verified: VerifiedReceipt
) -> PurchaseResult:
    with transaction.atomic():
        purchase = record_store_purchase(
            player=player,
            offer=offer,
            provider=provider,
            key=store_purchase_key(provider, verified.transaction_id),
            quantity=store_quantity(verified),
        )
        count_store_purchase(
            player=player, offer=offer, quantity=purchase.quantity, purchase_id=purchase.pk
        )
        payment = record_store_payment(
            game_id=player.game_id,
            purchase_id=purchase.pk,
            provider=provider,
            verified=verified,
            amount=purchase.price_amount,
            currency=purchase.price_currency,
        )
        purchase, balances = fulfil_purchase(purchase_id=purchase.pk)
        _flag_passes_charged_but_not_granted(purchase)
        body: dict[str, Any] = {
            "purchase_id": purchase.pk,
            "status": purchase.status,
            "balances": balances,
            "granted": purchase.granted,
            "transaction_id": verified.transaction_id,
        }
        status_code = 201 if purchase.status == "completed" else 202
        store_response(purchase=purchase, status_code=status_code, body=body)
        finish_with_store_after_commit(
            payment=payment, product_id=offer.google_product_id, consume=offer.store_consumable
        )
    return PurchaseResult(status_code, body)


def _flag_passes_charged_but_not_granted(purchase: Purchase) -> None:
    """A store transaction of several units of a premium-pass offer (a product the store lets a
    buyer take more than one of) is charged that many times, and a season has one pass: the
    pass is granted once, and the purchase flagged for an operator to refund the rest in the
    store."""
    extra = purchase.quantity - 1
    if extra < 1 or not any("premium_pass" in line for line in purchase.bought):
        return
    note = f"store quantity {purchase.quantity} of a premium pass: one granted, refund {extra}"
    # After what fulfilment noted (the newest kept whole: the column's end cut it off before).
    purchase.note = appended_note(purchase.note, note)
    Purchase.objects.filter(pk=purchase.pk).update(needs_attention=True, note=purchase.note)
    purchase.needs_attention = True
    logger.warning("shop: purchase %s: %s", purchase.pk, note)


def _replay(player: Player, provider: str, verified: VerifiedReceipt) -> PurchaseResult | None:
    payment = payment_by_external_id(
        game_id=player.game_id, provider=provider, external_id=verified.transaction_id
    )
    if payment is None:
        return None
    purchase = Purchase.objects.get(pk=payment.purchase_id)
    if purchase.player_id != player.pk:
        raise ReceiptAlreadyUsed("Another player already redeemed this store transaction.")
    # The store's client sends a purchase again until it sees it finished: finish it again.
    finish_again_if_owed(payment=payment)
    return PurchaseResult(200, purchase.response_body or {})
