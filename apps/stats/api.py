from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi, PlayerRequest
from apps.stats.selectors import get_player_stats


class PlayerStatsApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        player_id = serializers.IntegerField()
        level = serializers.IntegerField()
        xp = serializers.IntegerField()
        xp_to_next_level = serializers.IntegerField(
            allow_null=True, help_text="Null at the level curve's last level."
        )
        stats = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(summary="The player's level, XP and stats", responses=OutputSerializer)
    def get(self, request: PlayerRequest) -> Response:
        # get_player_stats shapes the body in OutputSerializer's order, ints and a dict of ints;
        # running it through the serializer would only copy it.
        return Response(get_player_stats(player_id=request.user.pk, game_id=request.user.game_id))
