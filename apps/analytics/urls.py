from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "analytics/events",
        not_implemented_view("Ingest client events", "post").as_view(),
        name="analytics-events",
    ),
]
