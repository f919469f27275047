"""Webhooks of processors and stores: verify, store once, answer 200 at once; Celery does the
rest. A bad signature is a 400 and stores nothing."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PublicApi
from apps.payments.services.events import receive_notification


class WebhookApi(PublicApi):
    provider = ""
    parser_classes: list = []  # the signature covers the raw bytes: never parse them first

    class OutputSerializer(serializers.Serializer):
        received = serializers.BooleanField()
        event_id = serializers.CharField()
        duplicate = serializers.BooleanField()

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OutputSerializer, auth=[])
    def post(self, request: Request) -> Response:
        event, created = receive_notification(
            provider=self.provider,
            body=request.body,
            headers=request.headers,
            query=request.query_params,
        )
        body = {"received": True, "event_id": event.event_id, "duplicate": not created}
        return Response(body, status=200)


class StripeWebhookApi(WebhookApi):
    provider = "stripe"


class SandboxWebhookApi(WebhookApi):
    provider = "sandbox"


class AppleWebhookApi(WebhookApi):
    provider = "apple"


class GooglePlayWebhookApi(WebhookApi):
    provider = "google_play"
