from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "events/active",
        not_implemented_view("Active events", "get").as_view(),
        name="events-active",
    ),
    path(
        "events/claim-reward",
        not_implemented_view("Claim an event reward", "post").as_view(),
        name="events-claim-reward",
    ),
]
