from django.urls import path

from apps.multiplayer.api import (
    DeregisterApi,
    HeartbeatApi,
    MatchResultApi,
    PhotonAuthApi,
    ServerDetailApi,
    ServerInfoApi,
    ValidateTokenApi,
)

routes = [
    path("validate-token", ValidateTokenApi.as_view(), name="multiplayer-validate-token"),
    path("match-result", MatchResultApi.as_view(), name="multiplayer-match-result"),
    path("photon/authenticate", PhotonAuthApi.as_view(), name="multiplayer-photon-authenticate"),
    path("server-info", ServerInfoApi.as_view(), name="multiplayer-server-info"),
    path(
        "server-info/<str:server_id>",
        ServerDetailApi.as_view(),
        name="multiplayer-server-detail",
    ),
    path(
        "servers/heartbeat",
        HeartbeatApi.as_view(),
        name="multiplayer-servers-heartbeat",
    ),
    path(
        "servers/deregister",
        DeregisterApi.as_view(),
        name="multiplayer-servers-deregister",
    ),
]

api_routes = {"multiplayer/": routes}
