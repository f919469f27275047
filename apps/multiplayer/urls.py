from django.urls import path, register_converter

from apps.multiplayer.api import (
    DeregisterApi,
    HeartbeatApi,
    MatchResultApi,
    PhotonAuthApi,
    ServerDetailApi,
    ServerInfoApi,
    ValidateTokenApi,
)


class AnyTextConverter:
    """Any text, `/` and line breaks included (`str` stops at a `/`, `path` at a line break): an
    id no server registers is then server_not_found, not a missing endpoint's not_found. A
    converter as Django documents one: a regex, to_python and to_url."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


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
