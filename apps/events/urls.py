from django.urls import path

from apps.events.api import ActiveEventsApi, ClaimRewardApi

routes = [
    path("active", ActiveEventsApi.as_view(), name="events-active"),
    path("claim-reward", ClaimRewardApi.as_view(), name="events-claim-reward"),
]

api_routes = {"events/": routes}
