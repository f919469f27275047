"""Leaderboard endpoints: a game's boards, the top of the open period, the player's rank and the
entries around it, a player's rank, closed periods' final standings (player token; a game
server's key reads too), and score submissions (server key; a player's token where the board
allows it)."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import (
    TIMESTAMP,
    GameServerApi,
    PlayerApi,
    PlayerRequest,
    ServerRequest,
    StrictIntegerField,
    UntrimmedCharField,
    problems,
)
from apps.accounts.authentication import GameServer
from apps.accounts.models import Player
from apps.leaderboards.errors import InvalidCursor, PlayerNotInGame
from apps.leaderboards.models import MAX_SCORE, Board, Period
from apps.leaderboards.selectors import (
    MAX_LIMIT,
    MAX_RADIUS,
    JsonPage,
    around_player,
    board_for,
    boards_of_game,
    closed_period,
    closed_periods,
    current_period,
    entry_body,
    open_top_entries_json,
    player_entry,
    top_entries_json,
)
from apps.leaderboards.services.submit import Submitted, submit_score
from gamingpanel.errors import InvalidInput
from gamingpanel.paging import set_next_page


class IsPlayerOrGameServer(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return isinstance(request.user, Player | GameServer)


def game_of(request: Request) -> int:
    """The caller's game: a player's (token) or a game server's (key)."""
    return cast(Player | GameServer, request.user).game_id


class ReadApi(PlayerApi):
    """Reads a player makes with their token (spending its budget) and a game server with its
    key."""

    permission_classes = [IsPlayerOrGameServer]


SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The board's slug.")


@extend_schema_field({"type": "integer", "minimum": -MAX_SCORE, "maximum": MAX_SCORE})
class ScoreField(serializers.Field):
    """Taken as sent: the service refuses anything but a whole number in range with
    `invalid_score` (a string or 1.5 included)."""

    def to_internal_value(self, data: object) -> object:
        return data

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "nullable": True,
        "description": "Kept with the entry: at most the board's `metadata_max_bytes` as compact "
        "JSON, each number written out in full as it is kept (`1e308` counts 309 bytes; 413 "
        "`metadata_too_large`); no U+0000 or lone surrogate in a key or a string (422 "
        "`unsupported_character`); at most 64 levels of arrays and objects (422 "
        "`value_too_deep`).",
    }
)
class MetadataField(serializers.Field):
    def to_internal_value(self, data: object) -> object:
        return data

    def to_representation(self, value: dict) -> dict:
        return value


class PeriodSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="Null: the board never resets.")
    state = serializers.ChoiceField(choices=Period.State.choices)


class EntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 is the best; ties: first to reach ranks higher.")
    player_id = serializers.IntegerField()
    display_name = serializers.CharField()
    score = serializers.IntegerField()
    metadata = serializers.DictField()


class StandingsSerializer(serializers.Serializer):
    board = serializers.CharField()
    period = PeriodSerializer()
    results = EntrySerializer(many=True)
    next = serializers.CharField(
        allow_null=True,
        help_text="Pass as `cursor` for the next page (null: the last page). The same cursor is "
        'in the `X-Next-Cursor` header, and `Link: <url>; rel="next"` names the next page.',
    )


MAX_CURSOR_LENGTH = 200


class PageQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10)
    cursor = serializers.CharField(
        required=False,
        max_length=MAX_CURSOR_LENGTH,
        help_text="The `next` of the previous page (or its `X-Next-Cursor` header); leave it out "
        "for the top (empty: `invalid_cursor`). Opaque.",
    )


MAX_PERIOD_NUMBER = 2**31 - 1  # PositiveIntegerField


class PeriodsQuery(serializers.Serializer):
    """Documents the periods list's paging (read by int_param, as the top's PageQuery)."""

    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=MAX_LIMIT)
    before = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PERIOD_NUMBER,
        required=False,
        help_text="Only periods numbered below this: the last number of the previous page.",
    )


def period_body(period: Period) -> dict[str, Any]:
    return {
        "number": period.number,
        "starts_at": TIMESTAMP.to_representation(period.starts_at),
        "ends_at": TIMESTAMP.to_representation(period.ends_at) if period.ends_at else None,
        "state": period.state,
    }


# The answer headers of a page whose body has a `next` (docs/guide/index.md, "Pagination").
NEXT_PAGE_HEADERS = [
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='`<url>; rel="next"` when more entries follow: this request with `cursor` '
        "replaced by `next`, its other parameters kept.",
    ),
    OpenApiParameter(
        "X-Next-Cursor",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="The next page's `cursor` (the body's `next`), when more entries follow.",
    ),
]


def page_response(request: Request, board: Board, page: JsonPage) -> HttpResponse:
    """StandingsSerializer's shape around the results JSON the selector built (a test pins it
    against the serializer), and the next page's headers when there is one."""
    response = built_json_response(
        {"board": board.slug, "period": period_body(page.period)},
        results=page.results_json,
        next=json.dumps(page.next_cursor),
    )
    if page.next_cursor is not None:
        set_next_page(response, request, page.next_cursor, request.query_params)
    return response


def built_json_response(fields: dict[str, Any], **built: str) -> HttpResponse:
    """An object of `fields`, rendered here, followed by members whose JSON a selector built,
    answered as it is rather than parsed and rendered again."""
    head = json.dumps(fields)[:-1]
    tail = "".join(f", {json.dumps(name)}: {text}" for name, text in built.items())
    return HttpResponse(f"{head}{tail}}}", content_type="application/json")


def int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in [low, high], read by hand: a DRF serializer built per
    request (PageQuery documents it) cost more than the page's query. Refusals are
    `validation_error` with the serializer's `errors` shape."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidInput("See errors.", errors={name: [f"A whole number from {low} to {high}."]})
    return value


def page_params(request: Request) -> dict[str, Any]:
    # A cursor sent is never "" (that is no cursor, and one left out is), nor longer than any
    # the API gives.
    cursor = request.query_params.get("cursor")
    if cursor is not None and not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        raise InvalidCursor(
            "The cursor cannot be read (empty, or longer than any this API gives); "
            "leave it out for the top."
        )
    return {
        "limit": int_param(request, "limit", default=10, low=1, high=MAX_LIMIT),
        "cursor": cursor,
    }


class BoardListApi(ReadApi):
    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        name = serializers.CharField()
        source = serializers.ChoiceField(choices=Board.Source.choices)  # type: ignore[assignment]
        stat = serializers.CharField(allow_null=True)
        order = serializers.ChoiceField(choices=Board.Order.choices)
        operator = serializers.ChoiceField(choices=Board.Operator.choices)
        reset = serializers.ChoiceField(choices=Board.Reset.choices)
        time_zone = serializers.CharField()
        client_submissions = serializers.BooleanField()
        period = PeriodSerializer()
        period_ends_at = serializers.DateTimeField(
            allow_null=True, help_text="When the open period ends (null: never resets)."
        )

    @extend_schema(
        summary="The game's leaderboards and their open periods",
        responses=OutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "slug": board.slug,
                    "name": board.name,
                    "source": board.source,
                    "stat": board.stat_key or None,
                    "order": board.order,
                    "operator": board.operator,
                    "reset": board.reset,
                    "time_zone": board.time_zone,
                    "client_submissions": board.takes_client_submissions,
                    "period": period_body(period),
                    "period_ends_at": period_body(period)["ends_at"],
                }
                for board, period in boards_of_game(game_id=game_of(request))
            ]
        )


class TopApi(ReadApi):
    @extend_schema(
        summary="The top of the open period, from a cursor",
        parameters=[SLUG, PageQuery, *NEXT_PAGE_HEADERS],
        responses={
            200: StandingsSerializer,
            **problems(e400="`validation_error`, `invalid_cursor`.", e404="`board_not_found`."),
        },
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        given = page_params(request)
        board = board_for(game_id=game_of(request), slug=slug)
        return page_response(
            request, board, open_top_entries_json(period=current_period(board), **given)
        )


class AroundMeApi(PlayerApi):
    class RadiusQuery(serializers.Serializer):
        radius = serializers.IntegerField(min_value=0, max_value=MAX_RADIUS, default=5)

    class OutputSerializer(serializers.Serializer):
        board = serializers.CharField()
        period = PeriodSerializer()
        entry = EntrySerializer(allow_null=True, help_text="Null: no score in this period yet.")
        results = EntrySerializer(many=True, help_text="Up to `radius` above, the player, below.")

    @extend_schema(
        summary="The player's rank and the entries around it",
        parameters=[SLUG, RadiusQuery],
        responses={
            200: OutputSerializer,
            **problems(e400="`validation_error`.", e404="`board_not_found`."),
        },
    )
    def get(self, request: PlayerRequest, slug: str) -> HttpResponse:
        radius = int_param(request, "radius", default=5, low=0, high=MAX_RADIUS)
        board = board_for(game_id=game_of(request), slug=slug)
        around = around_player(
            period=current_period(board), player_id=request.user.pk, radius=radius
        )
        # OutputSerializer's shape around the entries' JSON the selector built (a test pins it).
        return built_json_response(
            {"board": board.slug, "period": period_body(around.period)},
            entry=around.entry_json,
            results=around.results_json,
        )


class PlayerRankApi(ReadApi):
    class OutputSerializer(serializers.Serializer):
        board = serializers.CharField()
        period = PeriodSerializer()
        entry = EntrySerializer(allow_null=True, help_text="Null: no score in this period yet.")

    @extend_schema(
        summary="A given player's rank in the open period",
        parameters=[SLUG],
        responses={
            200: OutputSerializer,
            **problems(e404="`board_not_found`, `player_not_found`."),
        },
    )
    def get(self, request: Request, slug: str, player_id: int) -> Response:
        board = board_for(game_id=game_of(request), slug=slug)
        if not Player.objects.filter(pk=player_id, game_id=board.game_id).exists():
            raise PlayerNotInGame(f"No player {player_id} in this game.", player_id=player_id)
        period = current_period(board)
        entry = player_entry(period=period, player_id=player_id)
        return Response(
            {
                "board": board.slug,
                "period": period_body(period),
                "entry": entry_body(entry) if entry else None,
            }
        )


class PeriodListApi(ReadApi):
    @extend_schema(
        summary="The board's closed periods, latest first, a page at a time",
        parameters=[SLUG, PeriodsQuery],
        responses={
            200: PeriodSerializer(many=True),
            **problems(e400="`validation_error`.", e404="`board_not_found`."),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        limit = int_param(request, "limit", default=MAX_LIMIT, low=1, high=MAX_LIMIT)
        before = int_param(
            request, "before", default=MAX_PERIOD_NUMBER, low=1, high=MAX_PERIOD_NUMBER
        )
        board = board_for(game_id=game_of(request), slug=slug)
        periods = closed_periods(board=board).filter(number__lt=before)[:limit]
        return Response([period_body(period) for period in periods])


class StandingsApi(ReadApi):
    @extend_schema(
        summary="A closed period's final standings, from a cursor",
        parameters=[SLUG, PageQuery, *NEXT_PAGE_HEADERS],
        responses={
            200: StandingsSerializer,
            **problems(
                e400="`validation_error`, `invalid_cursor`.",
                e404="`board_not_found`, `period_not_found` (unknown or still open).",
            ),
        },
    )
    def get(self, request: Request, slug: str, number: int) -> HttpResponse:
        given = page_params(request)
        board = board_for(game_id=game_of(request), slug=slug)
        period = closed_period(board=board, number=number)
        return page_response(request, board, top_entries_json(period=period, **given))


class SubmittedSerializer(serializers.Serializer):
    submission_id = serializers.CharField()
    board = serializers.CharField()
    period = serializers.IntegerField(help_text="The number of the period the score landed in.")
    player_id = serializers.IntegerField()
    submitted = serializers.IntegerField()
    score = serializers.IntegerField(help_text="The entry's score after this submission.")
    improved = serializers.BooleanField(help_text="The entry changed.")
    replayed = serializers.BooleanField(
        help_text="This submission id was recorded before, within the last "
        "LEADERBOARD_SUBMISSION_RETENTION_DAYS (30 by default): nothing changed now."
    )


def submitted_body(board: Board, result: Submitted) -> dict[str, Any]:
    return {
        "submission_id": result.submission_id,
        "board": board.slug,
        "period": result.period_number,
        "player_id": result.player_id,
        "submitted": result.submitted,
        "score": result.score,
        "improved": result.improved,
        "replayed": result.replayed,
    }


# Once per submission id, for as long as the id is remembered (services.retention).
SUBMITTED = {
    201: OpenApiResponse(
        SubmittedSerializer,
        description="Recorded: a new submission id, or one first recorded more than "
        "LEADERBOARD_SUBMISSION_RETENTION_DAYS ago (30 by default), forgotten since.",
    ),
    200: OpenApiResponse(
        SubmittedSerializer,
        description="`replayed`: this submission id was recorded in the last "
        "LEADERBOARD_SUBMISSION_RETENTION_DAYS; nothing changed now.",
    ),
}


def submit_problems(forbidden: str) -> dict[int, OpenApiResponse]:
    """A submission's errors; `forbidden`, its 403, is the server's or the client's."""
    return problems(
        e400="`validation_error` (a submission id with white space at either end included), "
        "`malformed_json`, `invalid_score`, `invalid_metadata`.",
        e403=forbidden,
        e404="`board_not_found`, `player_not_found`.",
        e410="`player_erased`: the player's account was erased; nothing was recorded.",
        e409="`submission_id_reused` (another player or score, within the id's retention), "
        "`board_fed_by_stat`.",
        e413="`metadata_too_large` (with `limit` and `size`); `payload_too_large`: the body is "
        "over 2.5 MB.",
        e422="`unsupported_character`: the metadata holds U+0000 or a lone surrogate in a key or "
        "a string, which the panel cannot store; `value_too_deep`: it nests more than 64 levels.",
    )


# A game server's submission is never refused as a client's (client_submissions_not_allowed).
SERVER_SUBMIT_PROBLEMS = submit_problems("`player_banned`: the player is banned.")
CLIENT_SUBMIT_PROBLEMS = submit_problems(
    "`client_submissions_not_allowed`: the board takes scores from game servers only; "
    "`player_banned`."
)


class ClientScoreInput(serializers.Serializer):
    # As sent: not 0 for "0", not "s1" for " s1" (UntrimmedCharField).
    submission_id = UntrimmedCharField(min_length=1, max_length=100)
    score = ScoreField()
    metadata = MetadataField(required=False, allow_null=True)


class ServerScoreApi(GameServerApi):
    class InputSerializer(ClientScoreInput):
        player_id = StrictIntegerField(min_value=1)

    @extend_schema(
        summary="Submit a player's score (game server; once per submission id)",
        parameters=[SLUG],
        request=InputSerializer,
        responses={**SUBMITTED, **SERVER_SUBMIT_PROBLEMS},
    )
    def post(self, request: ServerRequest, slug: str) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        board = board_for(game_id=game_of(request), slug=slug)
        result = submit_score(board=board, **given.validated_data)
        return Response(submitted_body(board, result), status=200 if result.replayed else 201)


class ClientScoreApi(PlayerApi):
    @extend_schema(
        summary="Submit the player's own score (only where the board allows it)",
        parameters=[SLUG],
        request=ClientScoreInput,
        responses={**SUBMITTED, **CLIENT_SUBMIT_PROBLEMS},
    )
    def post(self, request: PlayerRequest, slug: str) -> Response:
        given = ClientScoreInput(data=request.data)
        given.is_valid(raise_exception=True)
        board = board_for(game_id=game_of(request), slug=slug)
        result = submit_score(
            board=board, player_id=request.user.pk, from_client=True, **given.validated_data
        )
        return Response(submitted_body(board, result), status=200 if result.replayed else 201)
