from django.urls import include, path

from apps.analytics.api import IngestEventsApi

routes = [
    path("events", IngestEventsApi.as_view(), name="analytics-events"),
]

urlpatterns = [path("analytics/", include(routes))]
