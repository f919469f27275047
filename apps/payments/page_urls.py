"""HTML pages under /payments/: the sandbox checkout and the page buyers return to."""

from django.urls import path

from apps.payments.views import ReturnPage, SandboxCheckoutPage

urlpatterns = [
    path(
        "sandbox/checkout/<int:payment_id>",
        SandboxCheckoutPage.as_view(),
        name="payments-sandbox-checkout",
    ),
    path("return/<int:payment_id>", ReturnPage.as_view(), name="payments-return"),
]
