from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "payments/webhooks/stripe",
        not_implemented_view("Stripe webhook", "post").as_view(),
        name="payments-webhooks-stripe",
    ),
]
