"""HTML pages under /payments/: the sandbox checkout and the page buyers return to, each named
by the payment's public token."""

from django.urls import path

from apps.payments.views import ReturnPage, SandboxCheckoutPage

urlpatterns = [
    path(
        "sandbox/checkout/<str:token>",
        SandboxCheckoutPage.as_view(),
        name="payments-sandbox-checkout",
    ),
    path("return/<str:token>", ReturnPage.as_view(), name="payments-return"),
]
