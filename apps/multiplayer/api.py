from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import (
    STRIPPED,
    TIMESTAMP,
    AccessTokenField,
    BoundedDictField,
    GameServerApi,
    PlayerApi,
    PlayerRequest,
    ServerRequest,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    TokenValidationApi,
    problems,
    query_filters,
)
from apps.accounts.authentication import ServerKeyQueryAuthentication
from apps.accounts.tokens import MAX_TOKEN_LENGTH, validate_access_token
from apps.multiplayer.errors import ServerNotFound
from apps.multiplayer.models import NAME, Outcome
from apps.multiplayer.selectors import (
    live_server,
    live_servers,
    with_profile,
)
from apps.multiplayer.services.matches import PlayerLine, record_match_result
from apps.multiplayer.services.registry import deregister, heartbeat
from gamingpanel.errors import InvalidInput

MAX_PLAYERS_PER_MATCH = 256
MAX_STATS_PER_PLAYER = 64
MAX_VALUE = 10**12  # far below BIGINT, so sums of many matches never overflow
SERVER_ID = re.compile(NAME)
MAX_SERVER_ID = 100

# What a heartbeat stores is handed to every player's client as it is: no control character
# (C0, DEL, C1: a line break, a bell, U+0085), and no character that shows nothing or moves
# what follows (zero-width ones, bidi overrides that show an address backwards, the line and
# paragraph separators). Classes both Python and JSON Schema (ECMA 262) read the same way.
UNSHOWN = (
    r"\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff"
)
# A host name, an address or a URL: no white space anywhere.
ADDRESS = rf"^[^{STRIPPED}{UNSHOWN}]+\Z"
# A mode or version: blank, or text with no white space at either end.
LABEL = rf"^([^{STRIPPED}{UNSHOWN}]([^{UNSHOWN}]*[^{STRIPPED}{UNSHOWN}])?)?\Z"
LABEL_MESSAGE = "No control or invisible character."


class ShownTextField(StrictCharField):
    """A string a heartbeat stores for players' clients: trimmed, as these fields always were
    (a version read from a file arrives with its line break, and game servers already running
    send it so), then refused when `pattern` does not match what is stored. The schema's pattern
    is what is stored."""

    def __init__(self, *, pattern: str, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(pattern, message))


class PlayerProfileSerializer(serializers.Serializer):
    """The public profile a game server gets with a valid token."""

    display_name = serializers.CharField()
    level = serializers.IntegerField()
    banned = serializers.BooleanField()


class ValidateTokenApi(TokenValidationApi):
    class OutputSerializer(serializers.Serializer):
        valid = serializers.BooleanField()
        reason = serializers.CharField(required=False)
        player_id = serializers.IntegerField(required=False)
        game_id = serializers.IntegerField(required=False)
        permissions = serializers.ListField(child=serializers.CharField(), required=False)
        expires_at = serializers.DateTimeField(required=False)
        player = PlayerProfileSerializer(required=False, help_text="Only when `valid`.")

    @extend_schema(
        summary="Validate a player's token and get their public profile",
        request=TokenValidationApi.InputSerializer,
        responses=OutputSerializer,
    )
    def post(self, request: ServerRequest) -> Response:
        # The answer is shaped by with_profile in OutputSerializer's order; running it through
        # the serializer would only copy it, on the call every server makes per player.
        return Response(with_profile(self.checked_token(request), game_id=request.user.game_id))


STAT_KEY = re.compile(r"[-a-zA-Z0-9_]{1,64}")
# validate-token's body field, for Photon's query parameter: the same limit and the same refusals.
PHOTON_TOKEN = AccessTokenField()


class PhotonAuthApi(GameServerApi):
    """Photon's custom authentication (Photon Cloud: PUN, Fusion, Realtime, Quantum): the app's
    dashboard names this URL with `key=<server key>`, the client adds `token=<access token>` to
    its AuthValues, and Photon asks here before it lets the player in. Photon reads the answer
    from the body, so every verdict on a token is a 200; an unknown key is the 401 every server
    endpoint answers (a studio's configuration to fix)."""

    authentication_classes = [ServerKeyQueryAuthentication]

    class OutputSerializer(serializers.Serializer):
        ResultCode = serializers.IntegerField(  # noqa: N815 - Photon's field names
            help_text="1: the player may join; 2: refused (`Message` says why); 3: no usable "
            "`token` parameter (none, several, or not a token string: over "
            f"{MAX_TOKEN_LENGTH} characters or with white space at either end)."
        )
        UserId = serializers.CharField(  # noqa: N815
            required=False, help_text="The player's id: Photon's user id for this player."
        )
        Nickname = serializers.CharField(required=False)  # noqa: N815
        Message = serializers.CharField(  # noqa: N815
            required=False,
            help_text="When refused: the reason auth/validate gives (token_expired, …).",
        )

    @extend_schema(
        summary="Photon custom authentication: may this player's token join?",
        parameters=[
            OpenApiParameter("key", str, required=True, description="The game's server key."),
            OpenApiParameter(
                "token",
                str,
                required=False,
                description=f"The player's access token, once (at most {MAX_TOKEN_LENGTH} "
                "characters, as validate-token's `token`).",
            ),
        ],
        request=None,
        responses={200: OutputSerializer, **problems(_401="`invalid_server_key`.")},
    )
    def get(self, request: ServerRequest) -> Response:
        sent = request.query_params.getlist("token")
        if not sent or sent == [""]:
            return Response({"ResultCode": 3, "Message": "Send the player's access token."})
        # One token, checked as validate-token checks its body's `token` (as a repeated `key` is
        # refused too), never the last of several. A refusal stays a 200 in Photon's shape (3:
        # invalid parameters): Photon takes another status for an unreachable service, and lets
        # the player in unless the dashboard's "Reject all clients if not available" is on.
        if len(sent) > 1:
            return Response(
                {"ResultCode": 3, "Message": "Send one `token` query parameter, not several."}
            )
        try:
            token = PHOTON_TOKEN.to_internal_value(sent[0])
        except serializers.ValidationError:
            return Response(
                {
                    "ResultCode": 3,
                    "Message": f"The token is a string of at most {MAX_TOKEN_LENGTH} characters "
                    "with no white space at either end.",
                }
            )
        check = with_profile(
            validate_access_token(token, game_id=request.user.game_id),
            game_id=request.user.game_id,
        )
        if not check["valid"]:
            return Response({"ResultCode": 2, "Message": check["reason"]})
        return Response(
            {
                "ResultCode": 1,
                "UserId": str(check["player_id"]),
                "Nickname": check["player"]["display_name"],
            }
        )

    @extend_schema(
        summary="Photon custom authentication, when the client sends AuthPostData",
        parameters=[
            OpenApiParameter("key", str, required=True, description="The game's server key."),
            OpenApiParameter(
                "token",
                str,
                required=True,
                description=f"The player's token, once (at most {MAX_TOKEN_LENGTH} characters).",
            ),
        ],
        request=None,
        responses={200: OutputSerializer, **problems(_401="`invalid_server_key`.")},
    )
    def post(self, request: ServerRequest) -> Response:
        return self.get(request)


class MatchPlayerSerializer(serializers.Serializer):
    player_id = StrictIntegerField(min_value=1)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    score = StrictIntegerField(default=0, min_value=-MAX_VALUE, max_value=MAX_VALUE)
    stats = BoundedDictField(
        child=StrictIntegerField(min_value=-MAX_VALUE, max_value=MAX_VALUE),
        max_length=MAX_STATS_PER_PLAYER,
        message="At most {max_length} stats per player.",
        default=dict,
        help_text=f"At most {MAX_STATS_PER_PLAYER}, by the game's stat keys (letters, digits, - "
        "and _, at most 64 characters).",
    )

    def validate_stats(self, stats: dict) -> dict:
        if not all(STAT_KEY.fullmatch(key) for key in stats):
            # No game can declare such a stat (a key is a slug of at most 64 characters), and
            # the `ignore` rule would store it among the ignored ones.
            raise serializers.ValidationError(
                "Stat keys are letters, digits, - and _, at most 64 characters."
            )
        return stats


class MatchResultLineSerializer(serializers.Serializer):
    player_id = serializers.IntegerField()
    outcome = serializers.CharField()
    score = serializers.IntegerField()
    xp_awarded = serializers.IntegerField()
    season_xp_awarded = serializers.IntegerField()
    level_before = serializers.IntegerField()
    level_after = serializers.IntegerField()
    ignored_stats = serializers.ListField(
        child=serializers.CharField(),
        help_text="Stats of this line the game does not define, left out (only under the "
        "game's `ignore` rule for undeclared stats; empty otherwise).",
    )


class MatchResultApi(GameServerApi):
    class InputSerializer(serializers.Serializer):
        match_id = StrictRegexField(NAME, max_length=100)
        mode = StrictRegexField(
            NAME,
            max_length=32,
            required=False,
            help_text='Default `""` (no mode: only the XP rules for every mode apply).',
        )
        started_at = serializers.DateTimeField(
            required=False, help_text="Default `ended_at` (a match of no length)."
        )
        ended_at = serializers.DateTimeField(
            required=False, help_text="Default the time the panel receives the result."
        )
        players: serializers.ListSerializer[dict[str, Any]] = serializers.ListSerializer(
            child=MatchPlayerSerializer(),
            allow_empty=False,
            min_length=1,
            max_length=MAX_PLAYERS_PER_MATCH,
        )

        def validate(self, data: dict) -> dict:
            data.setdefault("mode", "")
            data.setdefault("ended_at", max(timezone.now(), data.get("started_at", timezone.now())))
            data.setdefault("started_at", data["ended_at"])
            if data["ended_at"] < data["started_at"]:
                raise serializers.ValidationError({"ended_at": "A match ends after it starts."})
            ids = [p["player_id"] for p in data["players"]]
            if len(ids) != len(set(ids)):
                raise serializers.ValidationError({"players": "Each player appears once."})
            return data

    class OutputSerializer(serializers.Serializer):
        match_id = serializers.CharField(source="match.match_id")
        mode = serializers.CharField(source="match.mode")
        started_at = serializers.DateTimeField(source="match.started_at")
        ended_at = serializers.DateTimeField(source="match.ended_at")
        recorded_at = serializers.DateTimeField(source="match.recorded_at")
        players = MatchResultLineSerializer(many=True, source="results")

    @extend_schema(
        summary="Record a match once: stats, XP, battle pass, analytics",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(
                OutputSerializer, description="This match id was already recorded: its result."
            ),
            400: OpenApiResponse(
                description="`validation_error`, or `unknown_stat` (with `stats`) for a stat "
                "the game does not define when the game's rule for undeclared stats is to "
                "refuse (the default; under the ignore rule the match is recorded without them "
                "and each line lists them in ignored_stats)."
            ),
            409: OpenApiResponse(
                description="`match_id_conflict`: this match id was recorded with other "
                "results (mode, players, outcomes, scores or stats): nothing changed; send the "
                "match under a new id."
            ),
            422: OpenApiResponse(
                description="`players_not_in_game` (with `player_ids`): nothing was recorded."
            ),
        },
    )
    def post(self, request: ServerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        recorded = record_match_result(
            game=request.user.game,
            match_id=data["match_id"],
            mode=data["mode"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            players=[PlayerLine(**line) for line in data["players"]],
            server_key=request.user.server_key,
        )
        body = self.OutputSerializer(recorded).data
        return Response(body, status=201 if recorded.created else 200)


class ServerSerializer(serializers.Serializer):
    server_id = serializers.CharField()
    region = serializers.CharField()
    address = serializers.CharField()
    port = serializers.IntegerField()
    players = serializers.IntegerField()
    capacity = serializers.IntegerField()
    free_slots = serializers.IntegerField()
    mode = serializers.CharField()
    version = serializers.CharField()
    last_heartbeat_at = serializers.DateTimeField()


SERVER_REF = {"$ref": "#/components/schemas/Server"}  # ServerSerializer (ServerDetailApi's)


def server_body(server: dict[str, Any]) -> dict[str, Any]:
    """A live server as ServerSerializer shapes it: the selector's row is already in its order
    and types but for the heartbeat's time, which DRF's DateTimeField renders. Clients poll this
    list, so it is not run through the serializer's per-field machinery."""
    return {**server, "last_heartbeat_at": TIMESTAMP.to_representation(server["last_heartbeat_at"])}


class HeartbeatApi(GameServerApi):
    class InputSerializer(serializers.Serializer):
        server_id = StrictRegexField(NAME, max_length=MAX_SERVER_ID)
        region = StrictRegexField(NAME, max_length=32)
        address = ShownTextField(
            max_length=255,
            pattern=ADDRESS,
            message="A host name or an address: no white space inside, no control or invisible "
            "character.",
        )
        port = StrictIntegerField(min_value=1, max_value=65535)
        capacity = StrictIntegerField(min_value=1, max_value=1_000_000)
        players = StrictIntegerField(min_value=0)
        mode = ShownTextField(
            max_length=32, allow_blank=True, default="", pattern=LABEL, message=LABEL_MESSAGE
        )
        version = ShownTextField(
            max_length=32, allow_blank=True, default="", pattern=LABEL, message=LABEL_MESSAGE
        )

        def validate(self, data: dict) -> dict:
            if data["players"] > data["capacity"]:
                raise serializers.ValidationError({"players": "More players than capacity."})
            return data

    class OutputSerializer(serializers.Serializer):
        server_id = serializers.CharField()
        ttl_seconds = serializers.IntegerField(help_text="Beat again within this many seconds.")

    @extend_schema(
        summary="Register or refresh a game server",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **problems(
                _409="`server_id_taken`: another active server key registered this server id "
                "and its server still beats. `too_many_servers` (with `limit`): a server that is "
                "not live (a new id, or one that stopped beating) when the game already has "
                "`limit` live ones (the `MULTIPLAYER_MAX_LIVE_SERVERS` setting: "
                f"{settings.MULTIPLAYER_MAX_LIVE_SERVERS} on this panel): nothing changed; it "
                "joins once another deregisters or goes stale. A live server's beat always "
                "goes through."
            ),
        },
    )
    def post(self, request: ServerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        heartbeat(
            game=request.user.game, server_key=request.user.server_key, **given.validated_data
        )
        body = {
            "server_id": given.validated_data["server_id"],
            "ttl_seconds": settings.SERVER_HEARTBEAT_TTL_SECONDS,
        }
        return Response(self.OutputSerializer(body).data)


class DeregisterApi(GameServerApi):
    class InputSerializer(serializers.Serializer):
        # As a heartbeat names it, taken as sent: " eu-1 " is not eu-1.
        server_id = StrictRegexField(NAME, max_length=MAX_SERVER_ID)

    @extend_schema(
        summary="Take a server off the list at once (shutdown)",
        request=InputSerializer,
        responses={
            204: None,
            **problems(
                _409="`server_id_taken`: another active server key registered this server id "
                "and its server still beats; nothing removed."
            ),
        },
    )
    def post(self, request: ServerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        deregister(
            game=request.user.game,
            server_id=given.validated_data["server_id"],
            server_key=request.user.server_key,
        )
        return Response(status=204)


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query parameter, in ASCII digits only: DRF's IntegerField also takes
    `1.0`, ` 5`, `+5` and `٥` (Python's int reads any script's digits), none of which the
    schema's integer is."""

    def to_internal_value(self, data: object) -> int:
        if not isinstance(data, str) or not data.isascii() or not data.isdigit():
            self.fail("invalid")
        try:
            return int(data)
        except ValueError:  # more digits than Python converts
            self.fail("invalid")


class ServerInfoApi(PlayerApi):
    class FilterSerializer(serializers.Serializer):
        # Empty values mean "not given" (as v1 read them): no id, no filter. Each is taken as
        # sent, as a heartbeat takes it: " eu-1 " is not eu-1, nor " eu-west " eu-west.
        id = StrictRegexField(
            NAME,
            max_length=MAX_SERVER_ID,
            required=False,
            allow_blank=True,
            help_text="One server, answered as an object (not a list); 404 `server_not_found` "
            "when it is gone or stale, or not in the `region` or `mode` given. Empty: the list.",
        )
        region = StrictRegexField(
            NAME,
            max_length=32,
            required=False,
            allow_blank=True,
            default="",
            help_text="A region as a heartbeat sends it. Empty: any.",
        )
        mode = StrictRegexField(
            LABEL,
            max_length=32,
            required=False,
            allow_blank=True,
            default="",
            help_text="A mode as a heartbeat stores it. Empty: any.",
        )
        limit = QueryIntegerField(
            min_value=1,
            required=False,
            help_text="At most this many servers, the best candidates (most free slots) first. "
            "Empty or left out: every live server (a game has at most "
            "`MULTIPLAYER_MAX_LIVE_SERVERS` of them).",
        )

    @extend_schema(
        summary="The game's live servers, most free slots first (or one with ?id=)",
        parameters=[FilterSerializer],
        responses={
            200: OpenApiResponse(
                {"oneOf": [{"type": "array", "items": SERVER_REF}, SERVER_REF]},
                description="A list of the live servers (at most `limit`), or with `?id=` that "
                "one server (an object; `server-info/{server_id}` answers the same).",
            ),
            400: OpenApiResponse(
                description="`validation_error` (see `errors`): an id or region no heartbeat "
                "takes (letters, digits, `.`, `_`, `:` and `-`, from a letter or digit, at most "
                "100 and 32 characters, as sent: no surrounding spaces), a mode no heartbeat "
                "stores (over 32 characters, white space at either end, a control or invisible "
                "character), `limit` not a whole number of at least 1 in digits (`1.0`, `+1`: "
                "refused), or a parameter sent more than once."
            ),
            404: OpenApiResponse(
                description="`server_not_found` (with `?id=`): gone or stale, or not in the "
                "`region` or of the `mode` also given."
            ),
        },
    )
    def get(self, request: PlayerRequest) -> Response:
        params = request.query_params
        if params and (
            repeated := sorted(
                name
                for name, values in params.lists()
                if len(values) > 1 and name in SERVER_INFO_FILTERS
            )
        ):
            # DRF would take the last one: a client's query builder that appends is a bug to see.
            raise InvalidInput("See errors.", errors={name: ["Send it once."] for name in repeated})
        filters = query_filters(self.FilterSerializer, request)
        game_id = request.user.game_id
        if filters.get("id"):
            # The filters given narrow the one server as they narrow the list.
            server = live_server(
                game_id=game_id,
                server_id=filters["id"],
                region=filters["region"],
                mode=filters["mode"],
            )
            return Response(server_body(server))
        servers = live_servers(
            game_id=game_id,
            region=filters["region"],
            mode=filters["mode"],
            limit=filters.get("limit"),
        )
        return Response([server_body(server) for server in servers])


# The parameters ServerInfoApi takes, named once (building the serializer's fields copies them).
SERVER_INFO_FILTERS = frozenset(ServerInfoApi.FilterSerializer().fields)


class ServerDetailApi(PlayerApi):
    @extend_schema(
        summary="One live server of the game",
        operation_id="multiplayer_server_detail",
        # Any text routes here (urls.py); what is no server's id answers server_not_found.
        parameters=[OpenApiParameter("server_id", str, OpenApiParameter.PATH)],
        responses={
            200: ServerSerializer,
            404: OpenApiResponse(description="`server_not_found`: gone or stale."),
        },
    )
    def get(self, request: PlayerRequest, server_id: str) -> Response:
        if len(server_id) > MAX_SERVER_ID or not SERVER_ID.fullmatch(server_id):
            # No server registers such an id (U+0000 included, which no column holds).
            raise ServerNotFound(f"No live server {server_id[:100]!r} in this game.")
        return Response(server_body(live_server(game_id=request.user.game_id, server_id=server_id)))
