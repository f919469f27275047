from django.urls import path, register_converter
from django.urls.converters import StringConverter

from apps.multiplayer.api import (
    DeregisterApi,
    HeartbeatApi,
    MatchResultApi,
    PhotonAuthApi,
    ServerDetailApi,
    ServerInfoApi,
    ValidateTokenApi,
)


class AnyTextConverter(StringConverter):
    """Any text, `/` and line breaks included (`str` stops at a `/`, `path` at a line break): an
    id no server registers is then server_not_found, not a missing endpoint's not_found."""

    regex = r"[\s\S]+"


register_converter(AnyTextConverter, "any_text")

routes = [
    path("validate-token", ValidateTokenApi.as_view(), name="multiplayer-validate-token"),
    path("match-result", MatchResultApi.as_view(), name="multiplayer-match-result"),
    path("photon/authenticate", PhotonAuthApi.as_view(), name="multiplayer-photon-authenticate"),
    path("server-info", ServerInfoApi.as_view(), name="multiplayer-server-info"),
    path(
        "server-info/<any_text:server_id>",
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
