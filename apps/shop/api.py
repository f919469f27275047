"""Shop endpoints for game clients: catalogue, purchase (Idempotency-Key), purchases, receipts."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi
from apps.payments.services.receipts import redeem_receipt
from apps.shop.errors import IdempotencyKeyRequired
from apps.shop.models import Purchase
from apps.shop.selectors import purchase_of, purchases_of, shop_for_player
from apps.shop.services.purchase import PurchaseResult, purchase_offer
from gamingpanel.problems import PROBLEM_CONTENT_TYPE

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per purchase attempt (e.g. a UUID); retries reuse it.",
)


def require_idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 150:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header (1 to 150 characters).")
    return key


def result_response(result: PurchaseResult) -> Response:
    content_type = PROBLEM_CONTENT_TYPE if result.is_problem else None
    return Response(result.body, status=result.status_code, content_type=content_type)


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
            contents = serializers.ListField(child=serializers.DictField(), source="offer.contents")
            remaining_purchases = serializers.IntegerField(allow_null=True)
            stock = serializers.IntegerField(source="offer.stock", allow_null=True)
            available_until = serializers.DateTimeField(source="offer.available_until")
            store_products = serializers.SerializerMethodField()

            def get_store_products(self, entry: dict) -> dict[str, str]:
                offer = entry["offer"]
                products = {"apple": offer.apple_product_id, "google_play": offer.google_product_id}
                return {store: product for store, product in products.items() if product}

        id = serializers.IntegerField(source="category.pk")
        name = serializers.CharField(source="category.name")
        offers = OfferSerializer(many=True)

    @extend_schema(summary="What this player can buy now", responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        shop = shop_for_player(player=request.user)
        return Response(self.OutputSerializer(shop, many=True).data)


class PurchaseApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        offer_id = serializers.IntegerField(min_value=1)
        quantity = serializers.IntegerField(min_value=1, max_value=100, default=1)

    class OutputSerializer(serializers.Serializer):
        purchase_id = serializers.IntegerField()
        status = serializers.CharField()
        balances = serializers.DictField(child=serializers.IntegerField(), required=False)
        granted = serializers.ListField(child=serializers.DictField(), required=False)
        payment = serializers.DictField(required=False)

    @extend_schema(
        summary="Buy an offer (virtual: 201 at once; real money: 202 with a checkout)",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: OutputSerializer, 202: OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        key = require_idempotency_key(request)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = purchase_offer(player=request.user, idempotency_key=key, **given.validated_data)
        return result_response(result)


class PurchaseOutputSerializer(serializers.Serializer):
    purchase_id = serializers.IntegerField(source="pk")
    offer_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    status = serializers.CharField()
    source = serializers.CharField()
    price = PriceSerializer(source="*")
    granted = serializers.ListField(child=serializers.DictField())
    payment = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField()
    refunded_at = serializers.DateTimeField()

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
        }


class PurchaseListApi(PlayerApi):
    class FilterSerializer(serializers.Serializer):
        before_id = serializers.IntegerField(min_value=1, required=False)
        limit = serializers.IntegerField(min_value=1, max_value=100, default=50)

    @extend_schema(
        summary="The player's purchases, newest first",
        parameters=[FilterSerializer],
        responses=PurchaseOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        given = self.FilterSerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        purchases = purchases_of(player=request.user, **given.validated_data)
        return Response(PurchaseOutputSerializer(purchases, many=True).data)


class PurchaseDetailApi(PlayerApi):
    @extend_schema(summary="One of the player's purchases", responses=PurchaseOutputSerializer)
    def get(self, request: Request, purchase_id: int) -> Response:
        purchase = purchase_of(player=request.user, purchase_id=purchase_id)
        return Response(PurchaseOutputSerializer(purchase).data)


class ReceiptApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        provider = serializers.ChoiceField(choices=["apple", "google_play"])
        offer_id = serializers.IntegerField(min_value=1)
        receipt = serializers.JSONField(
            help_text="Apple: the StoreKit 2 signed transaction (JWS string). Google Play: "
            '{"purchase_token": "..."}.'
        )

    @extend_schema(
        summary="Redeem a platform store receipt (granted once per store transaction)",
        request=InputSerializer,
        responses={201: PurchaseApi.OutputSerializer, 200: PurchaseApi.OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return result_response(redeem_receipt(player=request.user, **given.validated_data))
