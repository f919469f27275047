"""`GET config`: the player's remote config, resolved, in one call with an ETag."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi, PlayerRequest, problems
from apps.remoteconfig.errors import InvalidClientVersion, InvalidPlatform
from apps.remoteconfig.resolver import VERSION, Version, parse_version
from apps.remoteconfig.selectors import resolved_config
from gamingpanel.headers import etag_current, request_header

# How long a client may use its copy before asking again (with If-None-Match: a 304 is cheap).
MAX_AGE_SECONDS = 60
# What the server reads, and the schema publishes: a version of up to four numbers, a platform
# name in any case (read in lower case).
CLIENT_VERSION_PATTERN = VERSION.pattern
PLATFORM_PATTERN = r"^[A-Za-z0-9_-]{1,20}$"
PLATFORM = re.compile(PLATFORM_PATTERN)
# HTTP's optional white space around a field value (RFC 9110 5.5): never part of the value.
OWS = " \t"

CLIENT_VERSION_HEADER = OpenApiParameter(
    "X-Client-Version",
    str,
    OpenApiParameter.HEADER,
    description="The game build, e.g. `1.4.2` (up to four numbers); or the query parameter "
    "`client_version`. Without it, overrides bound to a version range do not apply; sent empty "
    "it is 400 `invalid_client_version`.",
    pattern=CLIENT_VERSION_PATTERN,
)
PLATFORM_HEADER = OpenApiParameter(
    "X-Client-Platform",
    str,
    OpenApiParameter.HEADER,
    description="Where the game runs: `ios`, `android`, `windows`, `macos`, `linux`, `switch`, "
    "`playstation`, `xbox`, `web`… (read in lower case); or the query parameter `platform`. "
    "Sent empty it is 400 `invalid_platform`.",
    pattern=PLATFORM_PATTERN,
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of the copy the client holds: 304 with no body while it is current.",
)


def client_info(request: Request, header: str, query: str) -> str | None:
    """The header, else the query parameter; None when neither is sent. One sent is checked as
    it is: an empty one is refused, not taken as absent (a client sending nothing omits it)."""
    raw = request_header(request, header)
    if raw is not None:
        return raw.strip(OWS)
    return request.query_params.get(query)


def client_version_of(request: Request) -> Version | None:
    raw = client_info(request, "X-Client-Version", "client_version")
    if raw is None:
        return None
    version = parse_version(raw)
    if version is None:
        raise InvalidClientVersion(
            "X-Client-Version is a version like 1.4.2 (numbers and dots); leave it out when "
            "there is none."
        )
    return version


def platform_of(request: Request) -> str | None:
    raw = client_info(request, "X-Client-Platform", "platform")
    if raw is None:
        return None
    if not PLATFORM.fullmatch(raw):
        raise InvalidPlatform(
            "X-Client-Platform is a short name such as ios, android, windows; leave it out when "
            "there is none."
        )
    return raw.lower()


class ConfigApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        version = serializers.IntegerField(
            help_text="The published release the values come from (0: nothing published)."
        )
        values = serializers.DictField(
            child=serializers.JSONField(), help_text="Every key, resolved for this player."
        )

    @extend_schema(
        summary="The player's remote config, resolved",
        parameters=[CLIENT_VERSION_HEADER, PLATFORM_HEADER, IF_NONE_MATCH],
        responses={
            200: OutputSerializer,
            304: OpenApiResponse(description="The client's copy (its ETag) is current."),
            **problems(
                _400="`invalid_client_version` or `invalid_platform`: fix what the client sends."
            ),
        },
    )
    def get(self, request: PlayerRequest) -> Response:
        resolved = resolved_config(
            player=request.user,
            platform=platform_of(request),
            client_version=client_version_of(request),
        )
        if etag_current(request, resolved.etag):
            response = Response(status=304)
        else:
            # Built in OutputSerializer's shape: the values are already JSON.
            response = Response({"version": resolved.version, "values": resolved.values})
        response["ETag"] = resolved.etag
        response["Cache-Control"] = f"private, max-age={MAX_AGE_SECONDS}"
        response["Vary"] = "Authorization, X-Client-Version, X-Client-Platform"
        return response
