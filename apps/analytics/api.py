from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi, PlayerRequest
from apps.analytics.errors import BatchTooLarge
from apps.analytics.services import ClientEvent, ingest_client_events


class IngestEventsApi(PlayerApi):
    """A batch of client events; the panel's own facts (sessions, purchases…) are refused."""

    class InputSerializer(serializers.Serializer):
        class EventSerializer(serializers.Serializer):
            event_id = serializers.RegexField(
                r"^[A-Za-z0-9_.:\-]{1,64}$", required=False, allow_null=True
            )
            name = serializers.RegexField(r"^[a-z][a-z0-9_]{0,63}$")
            occurred_at = serializers.DateTimeField()
            properties = serializers.DictField(required=False, default=dict)

        events = EventSerializer(many=True, allow_empty=False)

    class OutputSerializer(serializers.Serializer):
        accepted = serializers.IntegerField(help_text="Events stored by this call.")
        duplicates = serializers.IntegerField(help_text="Events already stored (same event_id).")

    @extend_schema(
        summary="Send a batch of client analytics events",
        request=InputSerializer,
        responses={
            202: OutputSerializer,
            400: OpenApiResponse(
                description="The whole batch is refused, nothing is stored: `validation_error` "
                "(see `errors`), `malformed_json`, `batch_too_large` (more than "
                f"{settings.ANALYTICS_MAX_BATCH} events), or, for the first bad event (with "
                "`index`), `reserved_event_name` (a name the panel records itself), "
                "`event_out_of_range` (`occurred_at` too far in the past or future) or "
                f"`properties_too_large` (over {settings.ANALYTICS_MAX_PROPERTIES_BYTES} bytes)."
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if isinstance(events, list) and len(events) > settings.ANALYTICS_MAX_BATCH:
            # Refused before validating thousands of events one by one.
            raise BatchTooLarge(f"At most {settings.ANALYTICS_MAX_BATCH} events per batch.")
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = ingest_client_events(
            player=request.user,
            events=[ClientEvent(**event) for event in given.validated_data["events"]],
        )
        return Response(self.OutputSerializer(result).data, status=202)
