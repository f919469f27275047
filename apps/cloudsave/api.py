"""Cloud-save endpoints: the player's own documents (`player/saves`), other players' public
ones (`saves/public/{player_id}`) and a game server's view of any player of its game
(`saves/players/{player_id}`). Writes take If-Match (the version) or If-None-Match: * and an
optional Idempotency-Key; answers carry `ETag: "<version>"`."""

from __future__ import annotations

import re
from typing import Any

from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api_base import (
    BoundedListField,
    GameServerApi,
    PlayerApi,
    PlayerRequest,
    ServerRequest,
    StrictRegexField,
    problems,
)
from apps.accounts.models import Player
from apps.accounts.selectors import public_player, refuse_erased
from apps.cloudsave.errors import (
    InvalidPrecondition,
    InvalidSaveKey,
    PreconditionRequired,
    SaveNotFound,
    SavePlayerNotFound,
)
from apps.cloudsave.models import KEY_PATTERN, KEY_RULE, DocumentVersion
from apps.cloudsave.policy import save_policy
from apps.cloudsave.selectors import document_of, documents_of, public_documents_of
from apps.cloudsave.services import (
    MAX_BATCH_WRITES,
    Precondition,
    Write,
    WriteResult,
    delete_document,
    put_document,
    write_batch,
)
from gamingpanel.headers import etag_current, request_header
from gamingpanel.idempotency import (
    IDEMPOTENCY_KEY_PATTERN,
    OWS,
    optional_idempotency_key,
)
from gamingpanel.storable import check_storable

Source = DocumentVersion.Source
KEY = re.compile(KEY_PATTERN)
MAX_VERSION = 2**31 - 1
# If-Match as the server reads it: the ETag it answers (`"3"`), also weak (`W/"3"`) or bare (`3`).
# Nine digits at most: a billion writes to one document is beyond any game.
IF_MATCH_PATTERN = r'^(W/)?("[1-9][0-9]{0,8}"|[1-9][0-9]{0,8})$'
IF_MATCH_VERSION = re.compile(r"[0-9]+")

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The version the device last read, as its ETag (`"3"`; `W/"3"` and `3` are read '
    "alike): the write applies only to that version. Send this or If-None-Match.",
    pattern=IF_MATCH_PATTERN,
)
IF_NONE_MATCH_WRITE = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="`*`: create only; refused (412) when the document exists.",
    # An enum, not the pattern `^\*$`: Schemathesis cannot build a header value from a pattern
    # that needs a character other than a letter or a digit, and sent `0` as valid instead.
    enum=["*"],
)
IF_NONE_MATCH_DELETE = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="`*` instead of If-Match, for a key the device never synced: refused (412, with "
    "`current`) when another device created it; 404 when there is nothing to delete.",
    enum=["*"],
)
IF_NONE_MATCH_READ = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag the device holds: 304 with no body while it is still the version "
    '(compared weakly: `W/"3"` names `"3"`; a list may hold it; `*`: any document). What is not '
    "an entity tag (`3` unquoted) names nothing: 200 with the document.",
)
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Optional, 1 to 150 printable ASCII characters (e.g. a UUID): a retry with the "
    "same key and body answers the first success again; with another body it is 422 "
    "`idempotency_key_reused`.",
    pattern=IDEMPOTENCY_KEY_PATTERN,
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    description='The document\'s version as an entity tag (`"3"`): send it back as If-None-Match '
    "to read, as If-Match to write.",
    response=[200, 201, 304],
)
KEY_PARAM = OpenApiParameter(
    "key",
    str,
    OpenApiParameter.PATH,
    description="1 to 64 letters, digits, `_`, `.` or `-`; not `.` or `..`.",
    pattern=KEY_PATTERN,
)

STALE = (
    "`precondition_failed` (with `current`, the document as it is now, null when there is "
    "none): the document is at another version, exists (If-None-Match: *) or is gone; merge "
    "and retry with its version."
)
STALE_BATCH = (
    "`precondition_failed` (with `conflicts`, each stale key with its current document): "
    "nothing was written."
)
TOO_LARGE = (
    "`document_too_large` (with `key`, `size`, `limit`): over the game's limit per document; "
    "`player_storage_full` (with `limit`): the player's saves together would pass the game's "
    "limit; `too_many_documents` (with `limit`): a new key past the game's limit of documents "
    "per player (deleted ones count); `payload_too_large`: the body is over 2.5 MB. Nothing was "
    "written."
)
NOT_WRITABLE = (
    "`save_key_not_writable`: the game's rule for this key lets only game servers write it (or "
    "the game takes declared keys only)."
)
# A key the game does not take (it declares its keys) may still be deleted: its documents were
# written while it was taken (cloudsave.services._checked_sizes).
NOT_DELETABLE = (
    "`save_key_not_writable`: the game's rule for this key lets only game servers write it."
)
BAD_IDEMPOTENCY_KEY = (
    "`idempotency_key_required` (an Idempotency-Key that is empty, too long or not printable ASCII)"
)
BAD_PRECONDITION = (
    "`invalid_save_key`, `invalid_precondition` (an If-Match that is not a version, an "
    "If-None-Match other than `*`, an empty one, or both headers)"
)
BAD_WRITE = f"`validation_error`, `malformed_json`, {BAD_PRECONDITION}, {BAD_IDEMPOTENCY_KEY}."
# A batch names its keys and versions in its body (a key or a version the body's rules refuse is
# a `validation_error`) and reads no If-Match or If-None-Match.
BAD_BATCH = f"`validation_error`, `malformed_json`, {BAD_IDEMPOTENCY_KEY}."
# A delete reads no body: what it is sent with is never parsed.
BAD_DELETE = f"{BAD_PRECONDITION}, {BAD_IDEMPOTENCY_KEY}."
REUSED_OR_UNSTORABLE = (
    "`idempotency_key_reused`: this key came with another body; `unsupported_character`: the "
    "value holds U+0000 or a lone surrogate in a key or a string, which the panel cannot store; "
    "`value_too_deep`: arrays and objects nested more than 64 levels deep."
)


@extend_schema_field(
    {
        "description": "Any JSON but null (no U+0000 or lone surrogate in a key or a string: "
        "422 `unsupported_character`; at most 64 levels of arrays and objects: 422 "
        "`value_too_deep`).",
        "anyOf": [
            {"type": "object"},
            {"type": "array"},
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
        ],
    }
)
class NonNullJSONField(serializers.JSONField):
    """A document's value: any JSON but null (a delete is DELETE)."""

    def to_internal_value(self, data: Any) -> Any:
        # The API's one parser (gamingpanel.parsers, strict: no NaN) made the body from JSON,
        # so the value is JSON already: DRF's JSONField encodes it once more only to find that
        # out, which for a save of tens of kilobytes costs a few tenths of a millisecond.
        return data


class DocumentSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField(help_text="Raised by one on every write, deletes too.")
    value = serializers.JSONField()
    updated_at = serializers.DateTimeField()


class PutInputSerializer(serializers.Serializer):
    value = NonNullJSONField()


class BatchInputSerializer(serializers.Serializer):
    class WriteSerializer(serializers.Serializer):
        key = StrictRegexField(KEY_PATTERN, trim_whitespace=False)
        value = NonNullJSONField()
        version = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=MAX_VERSION,
            help_text="The version written against (as If-Match); absent or null: create only.",
        )

        def validate_key(self, key: str) -> str:
            # The pattern's `$` also matches before a final newline; a key is the whole string.
            if not KEY.fullmatch(key):
                raise serializers.ValidationError(KEY_RULE)
            return key

    writes = BoundedListField(child=WriteSerializer(), min_length=1, max_length=MAX_BATCH_WRITES)

    def validate_writes(self, writes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [write["key"] for write in writes]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Each key at most once per batch.")
        return writes


class BatchOutputSerializer(serializers.Serializer):
    saves = DocumentSerializer(many=True)


def checked_key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise InvalidSaveKey(f"A key is {KEY_RULE}")
    return key


def parse_version(header: str) -> int:
    """The version an If-Match names, read by IF_MATCH_PATTERN (what the schema publishes)."""
    if not re.fullmatch(IF_MATCH_PATTERN, header):
        raise InvalidPrecondition('If-Match takes a document version as its ETag: "3".')
    return int(IF_MATCH_VERSION.findall(header)[0])


def precondition_of(request: Request) -> Precondition:
    # A header sent is read, an empty one too: it names no version (400), it is not "not sent".
    if_match = request_header(request, "If-Match")
    if_none_match = request_header(request, "If-None-Match")
    if if_match is not None and if_none_match is not None:
        raise InvalidPrecondition("Send If-Match or If-None-Match, not both.")
    if if_none_match is not None:
        if if_none_match.strip(OWS) != "*":
            raise InvalidPrecondition("A write takes If-None-Match: * only (create if absent).")
        return Precondition(create_only=True)
    if if_match is not None:
        return Precondition(version=parse_version(if_match.strip(OWS)))
    raise PreconditionRequired(
        'Send If-Match: "<version>" to change a document, or If-None-Match: * to create one.'
    )


def document_response(body: dict[str, Any] | None, request: Request, status: int = 200) -> Response:
    if body is None:
        raise SaveNotFound("No such document.")
    etag = f'"{body["version"]}"'
    # HEAD is answered as GET is (Django runs `get` for it), its 304 included.
    if status == 200 and request.method in ("GET", "HEAD") and etag_current(request, etag):
        response = Response(status=304)
    else:
        response = Response(body, status=status)
    response["ETag"] = etag
    return response


def callers_own(response: Response) -> Response:
    """An answer that is the caller's own (one URL serves every player's documents): never
    from a shared cache, nor from a browser's without asking, nor another caller's copy."""
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Authorization", "X-Server-Key"))
    return response


# Every answer of a cloud-save endpoint is the caller's own, whatever its status: a document
# or a list, a batch's documents, a delete's 204, a 304, a 412 carrying the `current` document
# and every other problem. Versions are small numbers every player's documents share ("1",
# "2"…) under one URL for everyone, so a browser's cache (a web build) must ask every time and
# keep each caller's copy apart, or it could answer one player's If-None-Match with another
# player's save. Set here, once per answer, so no answer of these views goes without it (a
# batch write's 200 once did). (A comment, not a docstring: drf-spectacular would publish a
# docstring as every view's description.)
class CallersOwnAnswers(APIView):
    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        return callers_own(super().finalize_response(request, response, *args, **kwargs))


def result_response(result: WriteResult, request: Request) -> Response:
    if result.status == 204:
        return Response(status=204)
    if "version" in result.body:
        return document_response(result.body, request, status=result.status)
    return Response(result.body, status=result.status)


def batch_writes(request: Request) -> list[Write]:
    given = BatchInputSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    for write in given.validated_data["writes"]:
        check_storable(write["value"], "value")
    return [
        Write(
            write["key"],
            write["value"],
            Precondition(version=write["version"])
            if write.get("version") is not None
            else Precondition(create_only=True),
        )
        for write in given.validated_data["writes"]
    ]


def put_value(request: Request) -> Any:
    given = PutInputSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    return check_storable(given.validated_data["value"], "value")


class PlayerSavesApi(CallersOwnAnswers, PlayerApi):
    @extend_schema(
        summary="The player's saved documents",
        responses={200: DocumentSerializer(many=True)},
    )
    def get(self, request: PlayerRequest) -> Response:
        return Response(documents_of(player_id=request.user.pk))

    @extend_schema(
        summary="Write several documents at once, all or none",
        parameters=[IDEMPOTENCY],
        request=BatchInputSerializer,
        responses={
            200: BatchOutputSerializer,
            **problems(
                _400=BAD_BATCH,
                _403=NOT_WRITABLE,
                _412=STALE_BATCH,
                _413=TOO_LARGE,
                _422=REUSED_OR_UNSTORABLE,
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        key = optional_idempotency_key(request)
        result = write_batch(
            player=request.user,
            writes=batch_writes(request),
            source=Source.PLAYER,
            idempotency_key=key,
        )
        return result_response(result, request)


class PlayerSaveApi(CallersOwnAnswers, PlayerApi):
    @extend_schema(
        summary="One saved document, with its version as ETag",
        parameters=[KEY_PARAM, IF_NONE_MATCH_READ, ETAG],
        responses={
            200: DocumentSerializer,
            304: OpenApiResponse(description="The device's copy is current."),
            **problems(_400="`invalid_save_key`.", _404="`save_not_found`."),
        },
    )
    def get(self, request: PlayerRequest, key: str) -> Response:
        return document_response(
            document_of(player_id=request.user.pk, key=checked_key(key)), request
        )

    @extend_schema(
        summary="Create or change one document against the version the device last read",
        parameters=[KEY_PARAM, IF_MATCH, IF_NONE_MATCH_WRITE, IDEMPOTENCY, ETAG],
        request=PutInputSerializer,
        responses={
            200: OpenApiResponse(DocumentSerializer, description="Changed: the new version."),
            201: OpenApiResponse(
                DocumentSerializer,
                description="Created (If-None-Match: *): version 1, or the next version after a "
                "deleted document's.",
            ),
            **problems(
                _400=BAD_WRITE,
                _403=NOT_WRITABLE,
                _412=STALE,
                _413=TOO_LARGE,
                _422=REUSED_OR_UNSTORABLE,
                _428="`precondition_required`: send If-Match or If-None-Match: *.",
            ),
        },
    )
    def put(self, request: PlayerRequest, key: str) -> Response:
        result = put_document(
            player=request.user,
            key=checked_key(key),
            value=put_value(request),
            precondition=precondition_of(request),
            source=Source.PLAYER,
            idempotency_key=optional_idempotency_key(request),
        )
        return result_response(result, request)

    @extend_schema(
        summary="Delete one document at the version the device last read",
        parameters=[KEY_PARAM, IF_MATCH, IF_NONE_MATCH_DELETE, IDEMPOTENCY],
        responses={
            204: OpenApiResponse(description="Deleted; its version rose by one."),
            **problems(
                _400=BAD_DELETE,
                _403=NOT_DELETABLE,
                _404="`save_not_found`: no such document.",
                _412=STALE,
                _422="`idempotency_key_reused`: this key came with another request.",
                _428="`precondition_required`: send If-Match (or If-None-Match: *).",
            ),
        },
    )
    def delete(self, request: PlayerRequest, key: str) -> Response:
        result = delete_document(
            player=request.user,
            key=checked_key(key),
            precondition=precondition_of(request),
            source=Source.PLAYER,
            idempotency_key=optional_idempotency_key(request),
        )
        return result_response(result, request)


def _same_game_player(game_id: int, player_id: int) -> Player:
    """The game's player, for a game server: 404 when there is none, 410 player_erased when its
    account was erased (nothing is read or written under the tombstone)."""
    player = public_player(game_id=game_id, player_id=player_id)
    if player is None:
        raise SavePlayerNotFound(f"No player {player_id} in this game.")
    return refuse_erased(player)


class PublicSavesApi(CallersOwnAnswers, PlayerApi):
    @extend_schema(
        summary="Another player's public documents (the game's public keys)",
        responses={
            200: DocumentSerializer(many=True),
            **problems(_404="`not_found`: the path's player id is not a number."),
        },
    )
    def get(self, request: PlayerRequest, player_id: int) -> Response:
        keys = save_policy(game_id=request.user.game_id).public_keys
        documents = public_documents_of(
            game_id=request.user.game_id, player_id=player_id, public_keys=keys
        )
        return Response(documents)


class PublicSaveApi(CallersOwnAnswers, PlayerApi):
    @extend_schema(
        summary="One public document of another player",
        parameters=[KEY_PARAM, IF_NONE_MATCH_READ, ETAG],
        responses={
            200: DocumentSerializer,
            304: OpenApiResponse(description="The device's copy is current."),
            **problems(
                _400="`invalid_save_key`.",
                _404="`save_not_found`: no such document, or its key is not public.",
            ),
        },
    )
    def get(self, request: PlayerRequest, player_id: int, key: str) -> Response:
        keys = save_policy(game_id=request.user.game_id).public_keys
        found = public_documents_of(
            game_id=request.user.game_id,
            player_id=player_id,
            public_keys=keys,
            key=checked_key(key),
        )
        return document_response(found[0] if found else None, request)


ERASED = "`player_erased`: the player's account was erased; nothing was read or written."

PLAYER_PARAM = OpenApiParameter(
    "player_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A player of this game."
)


class ServerSavesApi(CallersOwnAnswers, GameServerApi):
    @extend_schema(
        summary="A player's documents, for a game server",
        parameters=[PLAYER_PARAM],
        responses={
            200: DocumentSerializer(many=True),
            **problems(_404="`player_not_found` in this game.", _410=ERASED),
        },
    )
    def get(self, request: ServerRequest, player_id: int) -> Response:
        player = _same_game_player(request.user.game_id, player_id)
        return Response(documents_of(player_id=player.pk))

    @extend_schema(
        summary="Write several of a player's documents at once (server-only keys too)",
        parameters=[PLAYER_PARAM, IDEMPOTENCY],
        request=BatchInputSerializer,
        responses={
            200: BatchOutputSerializer,
            **problems(
                _400=BAD_BATCH,
                _403="`save_key_not_writable`: the game takes declared keys only.",
                _404="`player_not_found` in this game.",
                _410=ERASED,
                _412=STALE_BATCH,
                _413=TOO_LARGE,
                _422=REUSED_OR_UNSTORABLE,
            ),
        },
    )
    def post(self, request: ServerRequest, player_id: int) -> Response:
        player = _same_game_player(request.user.game_id, player_id)
        result = write_batch(
            player=player,
            writes=batch_writes(request),
            source=Source.SERVER,
            idempotency_key=optional_idempotency_key(request),
        )
        return result_response(result, request)


class ServerSaveApi(CallersOwnAnswers, GameServerApi):
    @extend_schema(
        summary="One of a player's documents, for a game server",
        parameters=[PLAYER_PARAM, KEY_PARAM, IF_NONE_MATCH_READ, ETAG],
        responses={
            200: DocumentSerializer,
            304: OpenApiResponse(description="The server's copy is current."),
            **problems(
                _400="`invalid_save_key`.",
                _404="`player_not_found` in this game, or `save_not_found`.",
                _410=ERASED,
            ),
        },
    )
    def get(self, request: ServerRequest, player_id: int, key: str) -> Response:
        player = _same_game_player(request.user.game_id, player_id)
        return document_response(document_of(player_id=player.pk, key=checked_key(key)), request)

    @extend_schema(
        summary="Create or change one of a player's documents (server-only keys too)",
        parameters=[PLAYER_PARAM, KEY_PARAM, IF_MATCH, IF_NONE_MATCH_WRITE, IDEMPOTENCY, ETAG],
        request=PutInputSerializer,
        responses={
            200: OpenApiResponse(DocumentSerializer, description="Changed: the new version."),
            201: OpenApiResponse(
                DocumentSerializer,
                description="Created (If-None-Match: *): version 1, or the next version after a "
                "deleted document's.",
            ),
            **problems(
                _400=BAD_WRITE,
                _403="`save_key_not_writable`: the game takes declared keys only.",
                _404="`player_not_found` in this game.",
                _410=ERASED,
                _412=STALE,
                _413=TOO_LARGE,
                _422=REUSED_OR_UNSTORABLE,
                _428="`precondition_required`: send If-Match or If-None-Match: *.",
            ),
        },
    )
    def put(self, request: ServerRequest, player_id: int, key: str) -> Response:
        player = _same_game_player(request.user.game_id, player_id)
        result = put_document(
            player=player,
            key=checked_key(key),
            value=put_value(request),
            precondition=precondition_of(request),
            source=Source.SERVER,
            idempotency_key=optional_idempotency_key(request),
        )
        return result_response(result, request)

    @extend_schema(
        summary="Delete one of a player's documents",
        parameters=[PLAYER_PARAM, KEY_PARAM, IF_MATCH, IF_NONE_MATCH_DELETE, IDEMPOTENCY],
        responses={
            204: OpenApiResponse(description="Deleted; its version rose by one."),
            **problems(
                _400=BAD_DELETE,
                _404="`player_not_found` in this game, or `save_not_found`.",
                _410=ERASED,
                _412=STALE,
                _422="`idempotency_key_reused`: this key came with another request.",
                _428="`precondition_required`: send If-Match (or If-None-Match: *).",
            ),
        },
    )
    def delete(self, request: ServerRequest, player_id: int, key: str) -> Response:
        player = _same_game_player(request.user.game_id, player_id)
        result = delete_document(
            player=player,
            key=checked_key(key),
            precondition=precondition_of(request),
            source=Source.SERVER,
            idempotency_key=optional_idempotency_key(request),
        )
        return result_response(result, request)
