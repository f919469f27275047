from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi, PlayerRequest, StrictRegexField
from apps.analytics.errors import BatchTooLarge
from apps.analytics.services import ClientEvent, Rejection, ingest_client_events
from gamingpanel.errors import InvalidInput


class EventSerializer(serializers.Serializer):
    event_id = StrictRegexField(r"^[A-Za-z0-9_.:\-]{1,64}$", required=False, allow_null=True)
    name = StrictRegexField(
        r"^[a-z][a-z0-9_]{0,63}$",
        help_text=f"One of at most {settings.ANALYTICS_MAX_EVENT_NAMES} names per game: put what "
        "varies (a level, an id) in `properties`, not in the name.",
    )
    occurred_at = serializers.DateTimeField(
        # The guide's rule, whatever TIME_ZONE is: a time without an offset is UTC.
        default_timezone=UTC,
        help_text="When it happened (not when it was sent): at most "
        f"{settings.ANALYTICS_MAX_CLOCK_SKEW_SECONDS // 86400} days back (the "
        "`ANALYTICS_MAX_CLOCK_SKEW_SECONDS` setting) and "
        f"{settings.ANALYTICS_MAX_FUTURE_SECONDS} seconds ahead. Send it with its offset "
        "(`2026-11-25T10:00:00Z`, `…+02:00`): a time without one (`2026-11-25T10:00:00`, or a "
        "date alone) is read as UTC, so a device's local time sent that way lands hours off.",
    )
    properties = serializers.DictField(
        required=False,
        default=dict,
        help_text=f"At most {settings.ANALYTICS_MAX_PROPERTIES_BYTES} bytes as compact JSON.",
    )


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's place in the batch, from 0.")
    code = serializers.CharField(
        help_text="`validation_error` (see `errors`), `reserved_event_name`, "
        "`event_out_of_range`, `properties_too_large`, `unsupported_character`, "
        "`value_too_deep` or `too_many_event_names` (a name the game has not used, when it "
        f"already has {settings.ANALYTICS_MAX_EVENT_NAMES}: the `ANALYTICS_MAX_EVENT_NAMES` "
        "setting)."
    )
    detail = serializers.CharField()
    # A declared field, moved off the class by DRF: it does not shadow Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="With `validation_error` only."
    )


class BatchSerializer(serializers.Serializer):
    """The batch as the schema documents it; the view checks each event on its own."""

    events = serializers.ListField(
        child=EventSerializer(),
        min_length=1,
        max_length=settings.ANALYTICS_MAX_BATCH,
        help_text="An event that breaks these rules is rejected on its own (see the 207 answer); "
        "the rest of the batch is stored.",
    )


class IngestEventsApi(PlayerApi):
    """A batch of client events; the panel's own facts (sessions, purchases…) are refused."""

    class OutputSerializer(serializers.Serializer):
        accepted = serializers.IntegerField(help_text="Events stored by this call.")
        duplicates = serializers.IntegerField(help_text="Events already stored (same event_id).")
        rejected = RejectionSerializer(
            many=True,
            required=False,
            help_text="Only in a 207: the events not stored, and why. Do not send them again.",
        )

    @extend_schema(
        summary="Send a batch of client analytics events",
        request=BatchSerializer,
        responses={
            202: OpenApiResponse(
                OutputSerializer, description="Every event was stored (or already was)."
            ),
            207: OpenApiResponse(
                OutputSerializer,
                description="Some events were refused, each on its own: the others were stored. "
                "`rejected` names each refused event by `index` with its `code`.",
            ),
            400: OpenApiResponse(
                description="The batch itself is refused, nothing is stored: `validation_error` "
                "(no events list, or an empty one; see `errors`), `malformed_json` or "
                f"`batch_too_large` (more than {settings.ANALYTICS_MAX_BATCH} events)."
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if isinstance(events, list) and len(events) > settings.ANALYTICS_MAX_BATCH:
            # Refused before validating thousands of events one by one.
            raise BatchTooLarge(f"At most {settings.ANALYTICS_MAX_BATCH} events per batch.")
        if not isinstance(events, list) or not events:
            raise InvalidInput("See errors.", errors={"events": ["A non-empty list of events."]})
        valid: list[ClientEvent] = []
        rejected: list[Rejection] = []
        for index, raw in enumerate(events):
            given = EventSerializer(data=raw)
            if given.is_valid():
                valid.append(ClientEvent(**given.validated_data, index=index))
            else:
                rejected.append(
                    Rejection(
                        index=index,
                        code="validation_error",
                        detail="See errors.",
                        errors=_plain(given.errors),
                    )
                )
        result = ingest_client_events(player=request.user, events=valid, rejected=rejected)
        body: dict[str, Any] = {"accepted": result.accepted, "duplicates": result.duplicates}
        if not result.rejected:
            return Response(body, status=202)  # v1's answer to a batch of valid events
        body["rejected"] = [
            {
                "index": rejection.index,
                "code": rejection.code,
                "detail": rejection.detail,
                **({"errors": rejection.errors} if rejection.errors is not None else {}),
            }
            for rejection in result.rejected
        ]
        return Response(body, status=207)


def _plain(errors: Any) -> Any:
    """DRF's error structure as plain JSON values (ErrorDetail is a str subclass)."""
    if isinstance(errors, dict):
        return {key: _plain(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_plain(value) for value in errors]
    return str(errors)
