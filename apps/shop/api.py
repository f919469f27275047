"""Shop endpoints for game clients: catalogue, purchase (Idempotency-Key), purchases, receipts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import (
    TIMESTAMP,
    PlayerApi,
    PlayerRequest,
    StrictIntegerField,
    StrictRegexField,
    query_filters,
)
from apps.inventory.lines import GrantLineSerializer, grant_lines
from apps.shop.models import Offer, Purchase
from apps.shop.selectors import ended_outcome, purchase_of, purchases_of, shop_for_player
from apps.shop.services.purchase import PurchaseResult, checkout_end, purchase_offer
from apps.shop.services.receipts import redeem_receipt
from gamingpanel.errors import InvalidInput
from gamingpanel.idempotency import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    require_idempotency_key,
)
from gamingpanel.paging import set_next_page
from gamingpanel.problems import PROBLEM_CONTENT_TYPE

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per purchase attempt (e.g. a UUID), 1 to 150 printable ASCII "
    "characters; retries reuse it. Missing, too long or not printable ASCII: 400 "
    "`idempotency_key_required`.",
)
# What a provider's failure answers, shared by checkouts and store receipts.
PROVIDER_UNAVAILABLE = "`payment_provider_unavailable`: the processor or store did not answer."


def result_response(result: PurchaseResult) -> Response:
    content_type = PROBLEM_CONTENT_TYPE if result.is_problem else None
    return Response(result.body, status=result.status_code, content_type=content_type)


# One line of an offer's contents or of what a purchase granted (apps.inventory.lines).
OfferLineSerializer = GrantLineSerializer


@extend_schema_field(OfferLineSerializer(many=True))
class OfferLinesField(serializers.ListField):
    """Stored contents lines answered in the one grant-line shape (`GrantLine` in the schema)."""

    child = serializers.DictField()

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        return grant_lines(data)


class CheckoutSerializer(serializers.Serializer):
    """The checkout a real-money purchase opened: send the player to `checkout_url`."""

    provider = serializers.CharField()
    payment_id = serializers.IntegerField()
    checkout_url = serializers.URLField()
    external_id = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units (cents).")
    currency = serializers.CharField()
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the checkout ends if it is not paid (CHECKOUT_EXPIRY_SECONDS after the "
        "purchase, 24 h by default): the purchase then turns `expired`. Null once the buyer "
        "submitted the checkout; absent from the stored answers of purchases made before "
        "checkouts expired.",
    )


class PurchasePaymentSerializer(serializers.Serializer):
    provider = serializers.CharField()
    status = serializers.CharField(
        help_text="`created` (checkout open, not paid), `succeeded`, `failed`, `expired` "
        "(never paid in time), `refunded`, `disputed`."
    )
    checkout_url = serializers.CharField(help_text="Empty for a store receipt.")
    external_id = serializers.CharField()
    expires_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        help_text="An open checkout's end: unpaid by then, the purchase turns `expired`. Null "
        "for a store receipt, and once the buyer submitted the checkout (the processor decides).",
    )


class PriceSerializer(serializers.Serializer):
    currency = serializers.CharField(source="price_currency")
    amount = serializers.IntegerField(source="price_amount")
    real_money = serializers.BooleanField()


class CategoriesApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        class OfferSerializer(serializers.Serializer):
            id = serializers.IntegerField(source="offer.pk")
            name = serializers.CharField(source="offer.name")
            description = serializers.CharField(source="offer.description")
            price = PriceSerializer(source="offer")
            contents = OfferLinesField(source="offer.contents")
            remaining_purchases = serializers.IntegerField(allow_null=True)
            stock = serializers.IntegerField(source="offer.stock", allow_null=True)
            available_until = serializers.DateTimeField(
                allow_null=True,
                help_text="When the offer stops selling: its own end, or its category's if the "
                "category stops being shown first. Null: no end set.",
            )
            store_products = serializers.SerializerMethodField()

            def get_store_products(self, entry: dict) -> dict[str, str]:
                return store_products(entry["offer"])

        id = serializers.IntegerField(source="category.pk")
        name = serializers.CharField(source="category.name")
        offers = OfferSerializer(many=True)

    @extend_schema(summary="What this player can buy now", responses=OutputSerializer(many=True))
    def get(self, request: PlayerRequest) -> Response:
        # Built here in OutputSerializer's shape and order rather than through it: the
        # serializer, for every offer listed, cost about as much as the read.
        shop = shop_for_player(player=request.user)
        return Response([category_body(entry) for entry in shop])


def category_body(entry: dict) -> dict[str, Any]:
    """One category of `shop_for_player` as CategoriesApi.OutputSerializer answers it."""
    category = entry["category"]
    return {
        "id": category.pk,
        "name": category.name,
        "offers": [offer_body(listed) for listed in entry["offers"]],
    }


def offer_body(entry: dict) -> dict[str, Any]:
    offer = entry["offer"]
    return {
        "id": offer.pk,
        "name": offer.name,
        "description": offer.description,
        "price": {
            "currency": offer.price_currency,
            "amount": offer.price_amount,
            "real_money": offer.real_money,
        },
        # The catalogue lists only offers whose lines are all objects (the rules).
        "contents": grant_lines(offer.contents),
        "remaining_purchases": entry["remaining_purchases"],
        "stock": offer.stock,
        "available_until": TIMESTAMP.to_representation(entry["available_until"]),
        "store_products": store_products(offer),
    }


def store_products(offer: Offer) -> dict[str, str]:
    """The stores that sell this offer, by the product id each knows it by."""
    products = {"apple": offer.apple_product_id, "google_play": offer.google_product_id}
    return {store: product for store, product in products.items() if product}


class PurchaseApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        offer_id = StrictIntegerField(min_value=1)
        quantity = StrictIntegerField(min_value=1, max_value=100, default=1)

    class OutputSerializer(serializers.Serializer):
        purchase_id = serializers.IntegerField()
        status = serializers.CharField(
            help_text="`completed` (201) or `pending` (202: waiting for the payment). A replay "
            "answers the first answer again: read the purchase's state now from "
            "`shop/purchases/{purchase_id}`."
        )
        balances = serializers.DictField(
            child=serializers.IntegerField(),
            required=False,
            help_text="Completed: the new balance of each currency the purchase touched.",
        )
        granted = OfferLineSerializer(many=True, required=False, help_text="Completed only.")
        payment = CheckoutSerializer(required=False, help_text="Real money (202) only.")

    @extend_schema(
        summary="Buy an offer (virtual: 201 at once; real money: 202 with a checkout)",
        description="Each Idempotency-Key answers its first answer again, refusals included: a "
        "409 (or a failed checkout) is stored with the key, so a new attempt takes a new key.",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: OpenApiResponse(OutputSerializer, description="Virtual price: paid and granted."),
            202: OpenApiResponse(
                OutputSerializer,
                description="Real money: send the player to `payment.checkout_url`; the grant "
                "follows the processor's webhook (poll `shop/purchases/{purchase_id}`).",
            ),
            400: OpenApiResponse(
                description="`idempotency_key_required`, `validation_error` (see `errors`), "
                "`malformed_json`, `invalid_quantity` (a battle-pass offer is bought one at a "
                "time), or `unknown_currency`/`unknown_item` when the offer names something the "
                "economy does not define."
            ),
            404: OpenApiResponse(
                description="`offer_not_found` in this game, or `season_not_found` when a "
                "battle-pass offer names a season that no longer exists."
            ),
            409: OpenApiResponse(
                description="`insufficient_funds` (with `needed` and `available`), "
                "`offer_unavailable` (inactive, outside its dates, in a category not shown, or "
                "sold out: `reason` `sold_out`; fewer units left than the quantity asked, some "
                "left (with `reason` `not_enough_stock` and `remaining_stock`, how many): buy "
                "that many or fewer with a new key), `purchase_limit_reached` (with "
                "`remaining_purchases`; also a season's premium pass already had), "
                "`holding_limit_reached`, `season_ended` (the premium pass's season ended "
                "in the instant before the purchase), `payment_provider_not_configured` (real "
                "money: the game has no enabled processor), `request_in_progress` (real money: another "
                "request with this key is opening the checkout; send it again after "
                "`Retry-After`), or, for a key whose real-money purchase ended unpaid before its "
                "202 was stored, how it ended: `payment_cancelled`, `payment_failed` or "
                "`checkout_expired` (buy again with a new key)."
            ),
            410: OpenApiResponse(
                description="`player_erased`: the account was erased while the purchase was on "
                "its way (its token was checked just before); nothing was charged or granted."
            ),
            422: OpenApiResponse(
                description="`idempotency_key_reused`: this key came with another offer or "
                "quantity; use a new key."
            ),
            503: OpenApiResponse(
                description=f"{PROVIDER_UNAVAILABLE} Nothing was charged. Or "
                "`contents_unavailable`: part of the offer cannot be granted yet."
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        key = require_idempotency_key(request)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = purchase_offer(player=request.user, idempotency_key=key, **given.validated_data)
        return result_response(result)


PURCHASE_STATUSES = (
    "`pending` (real money: waiting for the payment, until `payment.expires_at`), `completed` "
    "(paid and granted), `failed` (the checkout failed or was cancelled; nothing charged), "
    "`expired` (the checkout ended unpaid; its stock and limit slot were given back), "
    "`refunded`. A payment reported after `failed` or `expired` is kept and the purchase is "
    "left to the studio to grant or refund. Why it failed or expired: `outcome`."
)
PURCHASE_OUTCOMES = (
    "Why a `failed` or `expired` purchase ended, a stable code (null otherwise): "
    "`payment_cancelled` (the buyer cancelled the checkout), `payment_failed` (the processor "
    "reported the payment failed), `checkout_expired` (nobody paid before its end), "
    "`payment_provider_unavailable` (the checkout could not be opened), or the code of the "
    "refusal its Idempotency-Key answers (e.g. `insufficient_funds`). Nothing was charged in "
    "any of them: a retry is a new purchase with a new Idempotency-Key. Null too for a "
    "checkout that failed or was cancelled before outcomes were recorded."
)


class PurchaseOutputSerializer(serializers.Serializer):
    purchase_id = serializers.IntegerField(source="pk")
    offer_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    status = serializers.CharField(help_text=PURCHASE_STATUSES)
    outcome = serializers.SerializerMethodField(help_text=PURCHASE_OUTCOMES)
    # A declared field, moved off the class by DRF: it does not shadow Field.source.
    source = serializers.CharField()  # type: ignore[assignment]
    price = PriceSerializer(source="*")
    granted = OfferLinesField()
    payment = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_outcome(self, purchase: Purchase) -> str | None:
        return ended_outcome(purchase)

    @extend_schema_field(PurchasePaymentSerializer(allow_null=True))
    def get_payment(self, purchase: Purchase) -> dict | None:
        try:
            payment = purchase.payment
        except ObjectDoesNotExist:
            return None
        return {
            "provider": payment.provider,
            "status": payment.status,
            "checkout_url": payment.checkout_url,
            "external_id": payment.external_id,
            "expires_at": checkout_end(payment),
        }


class PurchaseListApi(PlayerApi):
    class FilterSerializer(serializers.Serializer):
        cursor = StrictRegexField(
            r"^[1-9][0-9]{0,17}$",
            required=False,
            help_text='The next page: the `cursor` of the previous page\'s `Link: rel="next"` '
            "(or `X-Next-Cursor`) header. Opaque; omit it for the newest purchases.",
        )
        before_id = serializers.IntegerField(
            min_value=1,
            max_value=2**63 - 1,
            required=False,
            help_text="Deprecated: use `cursor`. Purchases with a smaller id.",
        )
        limit = serializers.IntegerField(min_value=1, max_value=100, default=50)

    @extend_schema(
        operation_id="shop_purchases_list",  # not "_retrieve", the name of purchases/{id}
        summary="The player's purchases, newest first (cursor pages)",
        parameters=[
            FilterSerializer,
            OpenApiParameter(
                "Link",
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description='`<url>; rel="next"` when more purchases follow.',
            ),
            OpenApiParameter(
                "X-Next-Cursor",
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description="The next page's `cursor`, when more purchases follow.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                PurchaseOutputSerializer(many=True),
                description="One page. When more follow, `Link: <…?cursor=…&limit=…>; "
                'rel="next"` and `X-Next-Cursor` name the next page; the last page has neither.',
            ),
            400: OpenApiResponse(
                description="`validation_error` (see `errors`): cursor, `before_id` or "
                "`limit` out of range or blank."
            ),
        },
    )
    def get(self, request: PlayerRequest) -> Response:
        # DRF reads `?cursor=` as no cursor at all; the schema says a cursor is never empty.
        params = request.query_params
        if blank := sorted(k for k, v in params.items() if v == "" and k in PURCHASE_FILTERS):
            raise InvalidInput("See errors.", errors={k: ["May not be blank."] for k in blank})
        filters = query_filters(self.FilterSerializer, request)
        before_id = int(filters["cursor"]) if "cursor" in filters else filters.get("before_id")
        limit = filters["limit"]
        # One more than asked tells whether another page follows, without a count.
        purchases = list(purchases_of(player=request.user, before_id=before_id, limit=limit + 1))
        page = purchases[:limit]
        response = Response(PurchaseOutputSerializer(page, many=True).data)
        if len(purchases) > limit:
            set_next_page(response, request, str(page[-1].pk), {"limit": str(limit)})
        return response


# The parameters PurchaseListApi takes, named once (building the serializer's fields copies them).
PURCHASE_FILTERS = frozenset(PurchaseListApi.FilterSerializer().fields)


class PurchaseDetailApi(PlayerApi):
    @extend_schema(
        summary="One of the player's purchases",
        responses={
            200: PurchaseOutputSerializer,
            404: OpenApiResponse(description="`purchase_not_found`: no purchase of this player."),
        },
    )
    def get(self, request: PlayerRequest, purchase_id: int) -> Response:
        purchase = purchase_of(player=request.user, purchase_id=purchase_id)
        return Response(PurchaseOutputSerializer(purchase).data)


class ReceiptApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        provider = serializers.ChoiceField(choices=["apple", "google_play"])
        offer_id = StrictIntegerField(min_value=1)
        receipt = serializers.JSONField(
            help_text="Apple: the StoreKit 2 signed transaction (JWS string), or "
            '{"transaction_id": "..."} for a StoreKit 1 purchase (looked up with Apple). Google '
            'Play: {"purchase_token": "..."}.'
        )

    class OutputSerializer(serializers.Serializer):
        purchase_id = serializers.IntegerField()
        status = serializers.CharField()
        balances = serializers.DictField(
            child=serializers.IntegerField(),
            help_text="The new balance of each currency the grant touched.",
        )
        granted = OfferLineSerializer(many=True)
        transaction_id = serializers.CharField(help_text="The store's transaction (order) id.")

    @extend_schema(
        summary="Redeem a platform store receipt (granted once per store transaction)",
        request=InputSerializer,
        responses={
            201: OpenApiResponse(
                OutputSerializer, description="Verified with the store and granted."
            ),
            200: OpenApiResponse(
                OutputSerializer,
                description="This player redeemed this store transaction before: that answer again.",
            ),
            202: OpenApiResponse(
                OutputSerializer,
                description="Paid, but the grant could not be made (e.g. a holding limit): the "
                "purchase stays `pending` and is flagged for the game's support.",
            ),
            400: OpenApiResponse(
                description="`validation_error` (see `errors`), `malformed_json`, "
                "`invalid_receipt` (not a valid receipt of this app or product, or a test "
                "purchase this game does not accept) or `receipt_product_mismatch` (the receipt "
                "is for another product)."
            ),
            403: OpenApiResponse(
                description="`receipt_account_mismatch` (the store purchase names another player "
                "as its buyer: `appAccountToken` / `obfuscatedExternalAccountId`) or "
                "`wrong_credential_kind` (a server key was sent where a player token belongs)."
            ),
            404: OpenApiResponse(description="`offer_not_found` in this game."),
            409: OpenApiResponse(
                description="`not_a_store_offer` (the offer has no product id in that store, "
                "or it is priced in a virtual currency), "
                "`payment_provider_not_configured` (no enabled, complete account for that "
                "store), `receipt_not_paid` (revoked, refunded, pending or cancelled), "
                "`receipt_already_used` (another player redeemed this store transaction) or "
                "`store_product_ambiguous` (several offers of the game carry this store product "
                "id: nothing is granted until an operator leaves it on one; send the receipt "
                "again later)."
            ),
            503: OpenApiResponse(
                description=f"{PROVIDER_UNAVAILABLE} `contents_unavailable`: the offer has a "
                "line that cannot be granted; nothing is recorded, send the receipt again later."
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return result_response(redeem_receipt(player=request.user, **given.validated_data))
