from django.urls import path

from apps.payments.api import (
    AppleWebhookApi,
    GooglePlayWebhookApi,
    SandboxWebhookApi,
    StripeWebhookApi,
)

routes = [
    path("webhooks/stripe", StripeWebhookApi.as_view(), name="payments-webhooks-stripe"),
    path("webhooks/sandbox", SandboxWebhookApi.as_view(), name="payments-webhooks-sandbox"),
    path("webhooks/apple", AppleWebhookApi.as_view(), name="payments-webhooks-apple"),
    path(
        "webhooks/google-play",
        GooglePlayWebhookApi.as_view(),
        name="payments-webhooks-google-play",
    ),
]

api_routes = {"payments/": routes}
