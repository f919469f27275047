"""`GET config`: the player's remote config, resolved, in one call with an ETag."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi, PlayerRequest, problems
from apps.remoteconfig.errors import InvalidClientVersion, InvalidPlatform
from apps.remoteconfig.resolver import PLATFORM, VERSION, Version, parse_version
from apps.remoteconfig.selectors import resolved_config, version_seen
from gamingpanel.headers import etag_current, parse_etags, request_header

# How long a client may use its copy before asking again (with If-None-Match: a 304 is cheap).
MAX_AGE_SECONDS = 60
# What the server reads, and the schema publishes: a version of up to four numbers, a platform
# name in any case (read in lower case).
CLIENT_VERSION_PATTERN = VERSION.pattern
PLATFORM_PATTERN = PLATFORM.pattern
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
    description="The ETag of the copy the client holds: 304 with no body while it is current "
    '(compared weakly: `W/"…"` names the same copy; a list may hold it; `*`: any). What is not an '
    "entity tag (the ETag without its quotes) names nothing: 200 with the copy.",
)


CLIENT_VERSION_QUERY = OpenApiParameter(
    "client_version",
    str,
    OpenApiParameter.QUERY,
    description="As X-Client-Version, for a client that cannot set headers; the header wins.",
    pattern=CLIENT_VERSION_PATTERN,
)
PLATFORM_QUERY = OpenApiParameter(
    "platform",
    str,
    OpenApiParameter.QUERY,
    description="As X-Client-Platform, for a client that cannot set headers; the header wins.",
    pattern=PLATFORM_PATTERN,
)
ANSWER_HEADERS = [
    OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        description="This player's resolved copy: send it back as If-None-Match.",
        response=[200, 304],
    ),
    OpenApiParameter(
        "Cache-Control",
        str,
        OpenApiParameter.HEADER,
        description="`private, max-age=60`: how long the copy may be used without asking.",
        response=[200, 304],
    ),
    OpenApiParameter(
        "Vary",
        str,
        OpenApiParameter.HEADER,
        description="`Authorization, X-Client-Version, X-Client-Platform`: what the copy depends on.",
        response=[200, 304],
    ),
]


def client_info(request: Request, header: str, query: str) -> list[str]:
    """What was sent, the header first, then the query parameter (its last value first, as
    Django reads one): the header wins, but each one sent is checked as it is, every repeat of
    the parameter included (an empty one is refused, not taken as absent: a client sending
    nothing omits it)."""
    sent = []
    raw = request_header(request, header)
    if raw is not None:
        sent.append(raw.strip(OWS))
    sent.extend(reversed(request.query_params.getlist(query)))
    return sent


def client_version_of(request: Request) -> Version | None:
    versions = [
        parse_version(raw) for raw in client_info(request, "X-Client-Version", "client_version")
    ]
    if None in versions:
        raise InvalidClientVersion(
            "X-Client-Version (or client_version) is a version like 1.4.2 (numbers and dots); "
            "leave it out when there is none."
        )
    return versions[0] if versions else None


def platform_of(request: Request) -> str | None:
    platforms = client_info(request, "X-Client-Platform", "platform")
    if not all(PLATFORM.fullmatch(raw) for raw in platforms):
        raise InvalidPlatform(
            "X-Client-Platform (or platform) is a short name such as ios, android, windows; "
            "leave it out when there is none."
        )
    return platforms[0].lower() if platforms else None


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
        parameters=[
            CLIENT_VERSION_HEADER,
            PLATFORM_HEADER,
            IF_NONE_MATCH,
            CLIENT_VERSION_QUERY,
            PLATFORM_QUERY,
            *ANSWER_HEADERS,
        ],
        responses={
            200: OutputSerializer,
            304: OpenApiResponse(description="The client's copy (its ETag) is current."),
            **problems(
                _400="`invalid_client_version` or `invalid_platform`: fix what the client sends."
            ),
        },
    )
    def get(self, request: PlayerRequest) -> Response:
        held = request_header(request, "If-None-Match")
        resolved = resolved_config(
            player=request.user,
            platform=platform_of(request),
            client_version=client_version_of(request),
            seen_version=version_seen(parse_etags(held)) if held else 0,
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
