"""Webhooks of processors and stores: verify, store once, answer 200 at once; Celery does the
rest. A bad signature is a 400 and stores nothing."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PublicApi
from apps.payments.providers.base import MAX_EVENT_ID_LENGTH
from apps.payments.providers.sandbox import SIGNATURE_HEADER as SANDBOX_SIGNATURE_HEADER
from apps.payments.services.events import receive_notification
from gamingpanel.storable import MAX_DEPTH

STORED = (
    " Verified, then stored once per event id and answered at once; the payment it reports is "
    "processed in the background. A notification that fails verification stores nothing, nor "
    "does one the panel cannot store as it came (400 `invalid_notification`): an event id "
    f"longer than {MAX_EVENT_ID_LENGTH} characters, U+0000 or a lone surrogate in it or "
    f"anywhere in the payload, or JSON nested more than {MAX_DEPTH} levels deep."
)


def _signature_header(name: str, scheme: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.HEADER,
        required=True,
        description=f"{scheme} Missing, malformed, stale or wrong: 400 `invalid_signature`.",
    )


def _webhook_schema(
    *,
    summary: str,
    description: str,
    request: type,
    errors: dict[int, str],
    parameters: list[OpenApiParameter] | None = None,
) -> dict:
    return {
        "post": extend_schema(
            summary=summary,
            description=description + STORED,
            request={"application/json": request},
            responses={
                200: WebhookApi.OutputSerializer,
                **{status: OpenApiResponse(description=text) for status, text in errors.items()},
            },
            auth=[],
            parameters=parameters,
        )
    }


class WebhookApi(PublicApi):
    provider = ""
    parser_classes: list = []  # the signature covers the raw bytes: never parse them first

    class OutputSerializer(serializers.Serializer):
        received = serializers.BooleanField()
        event_id = serializers.CharField()
        duplicate = serializers.BooleanField(help_text="This event id was received before.")

    def post(self, request: Request) -> Response:
        event, created = receive_notification(
            provider=self.provider,
            body=request.body,
            headers=request.headers,
            query=request.query_params,
        )
        body = {"received": True, "event_id": event.event_id, "duplicate": not created}
        return Response(body, status=200)


class SignedEventSerializer(serializers.Serializer):
    """A Stripe-style event, signed with `t=<unix time>,v1=<HMAC-SHA256>` over the raw body."""

    id = serializers.CharField()
    type = serializers.CharField(help_text="e.g. `checkout.session.completed`.")
    created = serializers.IntegerField(required=False)
    # DRF moves declared fields off the class, so `data` does not shadow Serializer.data.
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The event's object; ids of the payment it reports."
    )


@extend_schema_view(
    **_webhook_schema(
        summary="Stripe webhook (checkout and charge events)",
        description="Stripe's endpoint for every game: the webhook secret that verifies the "
        "signature names the game.",
        request=SignedEventSerializer,
        parameters=[
            _signature_header("Stripe-Signature", "Stripe's `t=…,v1=…` signature of the raw body.")
        ],
        errors={
            400: "`invalid_signature` (no game's webhook secret matches, or the timestamp is "
            "outside the tolerance) or `invalid_notification` (not a JSON object with an `id` "
            "and a `type`, or one the panel cannot store).",
        },
    )
)
class StripeWebhookApi(WebhookApi):
    provider = "stripe"


@extend_schema_view(
    **_webhook_schema(
        summary="Sandbox processor webhook",
        description="Where the sandbox checkout page reports paid, failed or expired payments, "
        "signed like Stripe's webhooks with the panel's sandbox secret.",
        request=SignedEventSerializer,
        parameters=[
            _signature_header(
                SANDBOX_SIGNATURE_HEADER, "The sandbox's `t=…,v1=…` signature of the raw body."
            )
        ],
        errors={
            400: "`invalid_signature` or `invalid_notification` (not a sandbox event with a "
            "`data.game_id`).",
        },
    )
)
class SandboxWebhookApi(WebhookApi):
    provider = "sandbox"


class AppleNotificationSerializer(serializers.Serializer):
    signedPayload = serializers.CharField(  # noqa: N815 (Apple's name)
        help_text="App Store Server Notifications V2: a JWS signed by Apple's certificate chain."
    )


@extend_schema_view(
    **_webhook_schema(
        summary="App Store server notification (refunds and revocations)",
        description="App Store Server Notifications V2. No signature header: the body is a JWS "
        "whose certificate chain must end at a trusted Apple root; its bundle id names the game.",
        request=AppleNotificationSerializer,
        errors={
            400: "`invalid_notification`: no `signedPayload`, a JWS that does not verify "
            "against Apple's chain, one without `notificationUUID` or type, or one the panel "
            "cannot store.",
            409: "`payment_provider_not_configured`: the panel trusts no Apple root certificate "
            "yet (`APPLE_APP_STORE_ROOT_CERTS`).",
            503: "`payment_provider_unavailable`: with online checks on, Apple's certificate "
            "status (OCSP) could not be checked; Apple sends the notification again.",
        },
    )
)
class AppleWebhookApi(WebhookApi):
    provider = "apple"


class PubSubPushSerializer(serializers.Serializer):
    class MessageSerializer(serializers.Serializer):
        # A declared field, moved off the class by DRF: it does not shadow Serializer.data.
        data = serializers.CharField(  # type: ignore[assignment]
            help_text="Base64 of the Play developer notification JSON."
        )
        messageId = serializers.CharField()  # noqa: N815 (Pub/Sub's name)

    message = MessageSerializer()
    subscription = serializers.CharField(required=False)


@extend_schema_view(
    **_webhook_schema(
        summary="Google Play real-time developer notification (Pub/Sub push)",
        description="The Pub/Sub push subscription of a game's Play developer notifications "
        "(voided purchases). Pub/Sub sends no signature: the push URL carries the game's "
        "secret `token`.",
        request=PubSubPushSerializer,
        parameters=[
            OpenApiParameter(
                "token",
                str,
                OpenApiParameter.QUERY,
                required=True,
                description="The `rtdn_token` of the game's Google Play account, in the push "
                "subscription's URL. Wrong or missing: 400 `invalid_signature`.",
            )
        ],
        errors={
            400: "`invalid_notification` (not a Pub/Sub push of a Play developer notification, "
            "or one the panel cannot store) or `invalid_signature` (unknown package, or a wrong "
            "`token` for it).",
            409: "`payment_provider_not_configured`: Google refused the game's service account "
            "while confirming a voided purchase; Pub/Sub delivers the push again.",
            503: "`payment_provider_unavailable`: Google (its certificates, token endpoint or "
            "Play Developer API) did not answer, failed, or answered a 200 that is not JSON; "
            "nothing is stored and Pub/Sub delivers the push again.",
        },
    )
)
class GooglePlayWebhookApi(WebhookApi):
    provider = "google_play"
