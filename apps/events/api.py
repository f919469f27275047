from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import TIMESTAMP, PlayerApi, PlayerRequest, StrictIntegerField
from apps.battlepass.api import MAX_ID, ContentLineSerializer
from apps.events.models import EventReward
from apps.events.selectors import get_active_events
from apps.events.services import claim_event_reward


class RequirementSerializer(serializers.Serializer):
    kind = serializers.CharField(source="requirement")
    stat = serializers.CharField(source="stat_key", allow_null=True)
    target = serializers.IntegerField()

    def to_representation(self, reward: object) -> dict:
        body = super().to_representation(reward)
        body["stat"] = requirement_stat(body["kind"], body["stat"])
        return body


def requirement_stat(kind: str, stat_key: str | None) -> str | None:
    """The stat a requirement counts: a stat requirement's key, none for the others (a reward
    switched from a stat to matches won keeps the key in its row, unused)."""
    return stat_key or None if kind == EventReward.Requirement.STAT else None


class GrantSerializer(serializers.Serializer):
    contents = ContentLineSerializer(many=True)
    battlepass_xp = serializers.IntegerField()


class RewardEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="reward.id")
    name = serializers.CharField(source="reward.name")
    requirement = RequirementSerializer(source="reward")
    progress = serializers.IntegerField(allow_null=True)
    claimable = serializers.BooleanField()
    claimed = serializers.BooleanField()
    grant = GrantSerializer(source="reward")


def active_event_body(entry: dict[str, Any]) -> dict[str, Any]:
    """One running event as ActiveEventsApi.OutputSerializer answers it."""
    event = entry["event"]
    return {
        "id": event["id"],
        "name": event["name"],
        "description": event["description"],
        "starts_at": TIMESTAMP.to_representation(event["starts_at"]),
        "ends_at": TIMESTAMP.to_representation(event["ends_at"]),
        "rewards": [
            {
                "id": reward["id"],
                "name": reward["name"],
                "requirement": {
                    "kind": reward["requirement"],
                    "stat": requirement_stat(reward["requirement"], reward["stat_key"]),
                    "target": reward["target"],
                },
                "progress": line["progress"],
                "claimable": line["claimable"],
                "claimed": line["claimed"],
                "grant": {
                    "contents": reward["contents"],  # in its API form (event_definitions)
                    "battlepass_xp": reward["battlepass_xp"],
                },
            }
            for line in entry["rewards"]
            for reward in [line["reward"]]
        ],
    }


class ActiveEventsApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="event.id")
        name = serializers.CharField(source="event.name")
        description = serializers.CharField(source="event.description")
        starts_at = serializers.DateTimeField(source="event.starts_at")
        ends_at = serializers.DateTimeField(source="event.ends_at")
        rewards = RewardEntrySerializer(many=True)

    @extend_schema(
        summary="Running events with the player's progress per reward",
        responses=OutputSerializer(many=True),
    )
    def get(self, request: PlayerRequest) -> Response:
        # Built here in OutputSerializer's shape and order rather than through it: the
        # serializer, for every reward of every event, cost more than the reads.
        events = get_active_events(player_id=request.user.pk, game_id=request.user.game_id)
        return Response([active_event_body(entry) for entry in events])


class ClaimRewardApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        # Ids are BIGINTs: a larger number names no row (and SQLite's driver cannot bind it).
        event_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
        reward_id = StrictIntegerField(min_value=1, max_value=MAX_ID)

    class OutputSerializer(serializers.Serializer):
        event_id = serializers.IntegerField()
        reward_id = serializers.IntegerField()
        claimed_at = serializers.DateTimeField()
        granted = GrantSerializer(source="*")

    @extend_schema(
        summary="Claim an event reward (once)",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                description="`validation_error`, or `unknown_currency`/`unknown_item` when the "
                "reward names something the economy does not define."
            ),
            404: OpenApiResponse(description="`reward_not_found` (in this event of this game)."),
            409: OpenApiResponse(
                description="`already_claimed`, `requirement_not_met` (with `progress` and "
                "`target`), `event_ended`, `event_not_started`, `holding_limit_reached`, or "
                "`no_active_season` (a reward of battle-pass XP only, while no season runs: "
                "not spent)."
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
        claim = claim_event_reward(player=request.user, **given.validated_data)
        return Response(self.OutputSerializer(claim).data, status=201)
