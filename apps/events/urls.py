from django.urls import path

from apps.events.api import ActiveEventsApi, ClaimRewardApi

urlpatterns = [
    path("events/active", ActiveEventsApi.as_view(), name="events-active"),
    path("events/claim-reward", ClaimRewardApi.as_view(), name="events-claim-reward"),
]
