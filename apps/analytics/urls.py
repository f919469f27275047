from django.urls import path

from apps.analytics.api import IngestEventsApi

urlpatterns = [
    path("analytics/events", IngestEventsApi.as_view(), name="analytics-events"),
]
