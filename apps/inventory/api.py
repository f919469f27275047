from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi, PlayerRequest
from apps.inventory.selectors import get_inventory


class InventoryApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        class ItemSerializer(serializers.Serializer):
            sku = serializers.CharField()
            name = serializers.CharField()
            kind = serializers.CharField()
            quantity = serializers.IntegerField()
            properties = serializers.DictField()

        currencies = serializers.DictField(child=serializers.IntegerField())
        items = ItemSerializer(many=True)

    @extend_schema(summary="The player's currencies and items", responses=OutputSerializer)
    def get(self, request: PlayerRequest) -> Response:
        # get_inventory shapes the body in OutputSerializer's order (codes and SKUs are strings,
        # amounts ints, properties a JSON object); running it through the serializer would only
        # copy it.
        return Response(get_inventory(player=request.user))
