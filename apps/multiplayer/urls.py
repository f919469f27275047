from django.urls import path

from apps.multiplayer.api import (
    DeregisterApi,
    HeartbeatApi,
    MatchResultApi,
    ServerInfoApi,
    ValidateTokenApi,
)

urlpatterns = [
    path(
        "multiplayer/validate-token", ValidateTokenApi.as_view(), name="multiplayer-validate-token"
    ),
    path("multiplayer/match-result", MatchResultApi.as_view(), name="multiplayer-match-result"),
    path("multiplayer/server-info", ServerInfoApi.as_view(), name="multiplayer-server-info"),
    path(
        "multiplayer/servers/heartbeat",
        HeartbeatApi.as_view(),
        name="multiplayer-servers-heartbeat",
    ),
    path(
        "multiplayer/servers/deregister",
        DeregisterApi.as_view(),
        name="multiplayer-servers-deregister",
    ),
]
