from django.urls import path

from apps.payments.api import (
    AppleWebhookApi,
    GooglePlayWebhookApi,
    SandboxWebhookApi,
    StripeWebhookApi,
)

urlpatterns = [
    path("payments/webhooks/stripe", StripeWebhookApi.as_view(), name="payments-webhooks-stripe"),
    path(
        "payments/webhooks/sandbox", SandboxWebhookApi.as_view(), name="payments-webhooks-sandbox"
    ),
    path("payments/webhooks/apple", AppleWebhookApi.as_view(), name="payments-webhooks-apple"),
    path(
        "payments/webhooks/google-play",
        GooglePlayWebhookApi.as_view(),
        name="payments-webhooks-google-play",
    ),
]
