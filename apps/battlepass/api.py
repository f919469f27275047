from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import TIMESTAMP, PlayerApi, PlayerRequest
from apps.battlepass.models import TierClaim
from apps.battlepass.selectors import get_progress
from apps.battlepass.services import claim_tier


class ContentLineSerializer(serializers.Serializer):
    currency = serializers.CharField(required=False)
    sku = serializers.CharField(required=False)
    quantity = serializers.IntegerField()


LINE_KEYS = tuple(ContentLineSerializer().fields)


def content_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored reward lines (`contents.validate_contents`) as ContentLineSerializer answers them:
    the code, then the quantity, whatever order an operator typed the keys in."""
    return [{key: line[key] for key in LINE_KEYS if key in line} for line in lines]


class SeasonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class TierSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    xp_required = serializers.IntegerField()
    free_reward = ContentLineSerializer(many=True)
    premium_reward = ContentLineSerializer(many=True)
    free_claimed = serializers.BooleanField()
    premium_claimed = serializers.BooleanField()


class BattlePassProgressApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        season = SeasonSerializer(allow_null=True)
        xp = serializers.IntegerField()
        tier = serializers.IntegerField(help_text="Highest tier reached; 0 before the first.")
        premium = serializers.BooleanField()
        tiers = TierSerializer(many=True)

    @extend_schema(
        summary="The player's progress in the running season", responses=OutputSerializer
    )
    def get(self, request: PlayerRequest) -> Response:
        # get_progress shapes the body in OutputSerializer's order; only the season's timestamps
        # and the reward lines take their API form here (the serializer, for hundreds of
        # fields, would copy the rest).
        progress = get_progress(player_id=request.user.pk, game_id=request.user.game_id)
        season = progress["season"]
        if season is not None:
            season = {
                **season,
                "starts_at": TIMESTAMP.to_representation(season["starts_at"]),
                "ends_at": TIMESTAMP.to_representation(season["ends_at"]),
            }
        tiers = [
            {
                **tier,
                "free_reward": content_lines(tier["free_reward"]),
                "premium_reward": content_lines(tier["premium_reward"]),
            }
            for tier in progress["tiers"]
        ]
        return Response({**progress, "season": season, "tiers": tiers})


class BattlePassClaimApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        level = serializers.IntegerField(min_value=1, max_value=32767)
        track = serializers.ChoiceField(choices=TierClaim.Track.choices)

    class OutputSerializer(serializers.Serializer):
        season_id = serializers.IntegerField()
        level = serializers.IntegerField()
        track = serializers.CharField()
        granted = ContentLineSerializer(many=True)

    @extend_schema(
        summary="Claim a reached tier's reward on one track",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                description="`validation_error`, or `unknown_currency`/`unknown_item` when the "
                "tier's reward names something the economy does not define."
            ),
            404: OpenApiResponse(description="`tier_not_found` in the running season."),
            409: OpenApiResponse(
                description="`already_claimed`, `tier_locked` (not enough season XP), "
                "`premium_required`, `no_active_season` or `holding_limit_reached`."
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = claim_tier(player=request.user, **given.validated_data)
        return Response(self.OutputSerializer(result).data, status=201)
