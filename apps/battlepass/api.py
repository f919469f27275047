from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import TIMESTAMP, PlayerApi, PlayerRequest, StrictIntegerField
from apps.battlepass.models import TierClaim
from apps.battlepass.selectors import get_progress
from apps.battlepass.services import claim_tier
from apps.inventory.lines import GrantLineSerializer

# Reward lines in the one shape every grant has (apps.inventory.lines).
ContentLineSerializer = GrantLineSerializer

MAX_ID = 2**63 - 1  # ids are BIGINTs: a larger number names no row (and SQLite cannot bind it)


class SeasonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


@extend_schema_field(
    {"type": "integer", "deprecated": True, "description": "Deprecated: read `tier` (the same)."}
)
class DeprecatedLevelField(serializers.IntegerField):
    """`level` was the tier's number before `tier` named it everywhere; kept for v1 clients."""


class TierSerializer(serializers.Serializer):
    tier = serializers.IntegerField(help_text="The tier's number, from 1.")
    level = DeprecatedLevelField()
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
        # get_progress shapes the body in OutputSerializer's order, the reward lines in their
        # API form (as the season's definition keeps them); only the season's timestamps take
        # theirs here (the serializer, for hundreds of fields, would copy the rest).
        progress = get_progress(player_id=request.user.pk, game_id=request.user.game_id)
        season = progress["season"]
        if season is not None:
            season = {
                **season,
                "starts_at": TIMESTAMP.to_representation(season["starts_at"]),
                "ends_at": TIMESTAMP.to_representation(season["ends_at"]),
            }
        return Response({**progress, "season": season})


class BattlePassClaimApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        tier = StrictIntegerField(
            min_value=1, max_value=32767, required=False, help_text="The tier to claim."
        )
        level = StrictIntegerField(
            min_value=1,
            max_value=32767,
            required=False,
            help_text="Deprecated: send `tier` (the same number). One of the two is required.",
        )
        track = serializers.ChoiceField(choices=TierClaim.Track.choices)
        season_id = StrictIntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="The season whose progress the client read (`season.id`). Optional; when "
            "sent, a claim that reaches the server once another season runs is refused "
            "(`season_not_running`) instead of claiming that season's tier.",
        )

        def validate(self, data: dict) -> dict:
            tier, level = data.get("tier"), data.pop("level", None)
            if tier is None and level is None:
                raise serializers.ValidationError({"tier": "This field is required."})
            if tier is not None and level is not None and tier != level:
                raise serializers.ValidationError({"tier": "`tier` and `level` differ."})
            data["tier"] = tier if tier is not None else level
            return data

    class OutputSerializer(serializers.Serializer):
        season_id = serializers.IntegerField()
        tier = serializers.IntegerField(source="level")
        level = DeprecatedLevelField()
        track = serializers.CharField()
        granted = ContentLineSerializer(many=True)

    @extend_schema(
        summary="Claim a reached tier's reward on one track",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                description="`validation_error`, `malformed_json`, or `unknown_currency`/"
                "`unknown_item` when the tier's reward names something the economy does not "
                "define."
            ),
            404: OpenApiResponse(
                description="`tier_not_found` in the running season, or `season_not_found` "
                "(the season the claim names is no season of this game)."
            ),
            409: OpenApiResponse(
                description="`already_claimed`, `tier_locked` (not enough season XP), "
                "`premium_required`, `no_active_season`, `season_not_running` (with `season_id` "
                "and `running_season_id`: the season the claim names is not the running one) or "
                "`holding_limit_reached`."
            ),
            410: OpenApiResponse(
                description="`player_erased`: the account was erased while the claim was under "
                "way; nothing was granted."
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        result = claim_tier(
            player=request.user,
            level=data["tier"],
            track=data["track"],
            season_id=data.get("season_id"),
        )
        return Response(self.OutputSerializer(result).data, status=201)
