from django.urls import path

from apps.analytics.api import IngestEventsApi

routes = [
    path("events", IngestEventsApi.as_view(), name="analytics-events"),
]

api_routes = {"analytics/": routes}
