"""Base views every API app builds on, so each endpoint states who may call it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import (
    GameServer,
    IsGameServer,
    IsPlayer,
    PlayerTokenAuthentication,
    ServerKeyAuthentication,
)
from apps.accounts.models import Player, ServerKey
from apps.accounts.ratelimit import Budget, enforce, spend_session_budget, tightest
from apps.accounts.tokens import MAX_TOKEN_LENGTH, AccessClaims, TokenCheck, validate_access_token

# How many renderings RememberedTimestamp keeps a process: past this many it starts again.
REMEMBERED_TIMESTAMPS = 4096


class RememberedTimestamp(serializers.DateTimeField):
    """DRF's DateTimeField in UTC (TIME_ZONE is UTC, and the API never activates another zone),
    its rendering of each instant remembered: about 4 us a value, and the same instants are
    answered to every player (a server's last heartbeat, an event's or a season's window), a
    list of twelve servers a dozen times a request. What it answers is DRF's."""

    def __init__(self) -> None:
        super().__init__(default_timezone=UTC)
        self._rendered: dict[datetime, str] = {}

    def to_representation(self, value: Any) -> Any:
        if not isinstance(value, datetime):
            return super().to_representation(value)
        # Keyed by the instant (aware values equal when they name the same one, which renders
        # the same in UTC); a naive value never equals an aware one.
        if (rendered := self._rendered.get(value)) is None:
            rendered = super().to_representation(value)
            if len(self._rendered) >= REMEMBERED_TIMESTAMPS:
                self._rendered.clear()
            self._rendered[value] = rendered
        return rendered


# A timestamp as DRF's DateTimeField answers it (ISO 8601 in UTC, "Z"), for the hot bodies a view
# builds in its serializer's shape without running the serializer.
TIMESTAMP = RememberedTimestamp()


def problems(**described: str) -> dict[int, OpenApiResponse]:
    """Error answers for the schema: status -> which codes (the body is always a problem)."""
    return {
        int(status[1:]): OpenApiResponse(description=text) for status, text in described.items()
    }


class PlayerRequest(Request):
    """The request a PlayerApi view gets (for type checking; DRF's Request at run time)."""

    user: Player  # type: ignore[assignment]
    auth: AccessClaims
    rate_budget: Budget | None


class ServerRequest(Request):
    """The request a GameServerApi view gets (for type checking; DRF's Request at run time)."""

    user: GameServer  # type: ignore[assignment]
    auth: ServerKey


class PublicRequest(Request):
    """The request a PublicApi view gets (for type checking): the budgets it spent, if any."""

    rate_budgets: list[Budget | None]


class PlayerApi(APIView):
    """Called by a game client with `Authorization: Bearer <access token>`.

    Each request spends one from its login session's hourly budget (every access token the
    session's refreshes issue shares it, as does every process);
    every answer to a token carries the RateLimit-* headers, and over budget it is a 429.
    """

    authentication_classes = [PlayerTokenAuthentication, ServerKeyAuthentication]
    permission_classes = [IsPlayer]
    # False for a call that must go through however much of its budget the session has spent
    # (logout): it is counted and carries the headers, but is never answered 429.
    refused_over_budget = True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # After authentication and permissions: a refused token spends nothing.
        if isinstance(request.auth, AccessClaims):
            # IsPlayer has let it through, and only a player's token carries AccessClaims.
            player_request = cast(PlayerRequest, request)
            player_request.rate_budget = spend_session_budget(
                session_id=request.auth.session_id, game=player_request.user.game
            )
            if self.refused_over_budget:
                enforce(player_request.rate_budget)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        return with_budget_headers(response, getattr(request, "rate_budget", None))


def with_budget_headers(response: Response, *budgets: Budget | None) -> Response:
    """The RateLimit-* headers of the budget closest to running out, on any answer."""
    if budget := tightest(*budgets):
        for name, value in budget.headers().items():
            response[name] = value
    return response


_no_query: dict[type[serializers.Serializer], dict[str, Any]] = {}


def query_filters(
    serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    """The request's query parameters as `serializer_class` validates them (400 when it
    refuses). A request with none gets what the serializer itself makes of none (its defaults),
    worked out once per class: most polls send no parameters, and building a serializer's
    fields (a deep copy of each) cost as much as the rest of such a read."""
    if request.query_params:
        given = serializer_class(data=request.query_params)
        given.is_valid(raise_exception=True)
        return dict(given.validated_data)
    if serializer_class not in _no_query:
        given = serializer_class(data={})
        given.is_valid(raise_exception=True)
        _no_query[serializer_class] = dict(given.validated_data)
    return dict(_no_query[serializer_class])


class GameServerApi(APIView):
    """Called by a game server with `X-Server-Key`."""

    authentication_classes = [ServerKeyAuthentication, PlayerTokenAuthentication]
    permission_classes = [IsGameServer]


# The characters str.strip() removes (str.isspace), as a regex class both Python and JSON Schema
# (ECMA 262) read the same way: a token may not start or end with one.
STRIPPED = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_SURROUNDING_SPACE = rf"^[^{STRIPPED}]([\s\S]*[^{STRIPPED}])?$"
# The same for text a column stores, which holds no U+0000 either (DRF's CharField refuses it).
# `\Z`, not `$` (which also matches before a final newline): the schema publishes it as `$`.
STORED_TEXT = rf"^[^{STRIPPED}\x00]([^\x00]*[^{STRIPPED}\x00])?\Z"


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TOKEN_LENGTH,
        "pattern": NO_SURROUNDING_SPACE,
    }
)
class AccessTokenField(serializers.Field):
    """An access token as a game server posts it: a string of at most MAX_TOKEN_LENGTH
    characters with no surrounding space. Not a CharField: its validators walk every character
    in Python (surrogates, NUL), which cost as much as checking the token's signature; a token
    with such characters is simply not a valid one."""

    default_error_messages = {"invalid": "A token string of at most {max_length} characters."}

    def to_internal_value(self, data: object) -> str:
        if (
            not isinstance(data, str)
            or not 0 < len(data) <= MAX_TOKEN_LENGTH
            or data.strip() != data
        ):
            self.fail("invalid", max_length=MAX_TOKEN_LENGTH)
        return data

    def to_representation(self, value: str) -> str:
        return value


class StrictCharField(serializers.CharField):
    """A CharField that takes only a JSON string: DRF's CharField turns `0` or `true` into
    `"0"`/`"True"`, so a client sending the wrong type would be silently accepted."""

    default_error_messages = {"not_a_string": "Not a valid string."}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField for a JSON body that takes only a JSON integer: DRF's IntegerField also
    takes `"7"`, `7.0` and `"5.000"`, so a client sending the wrong type would be silently
    accepted (query parameters, which are text, keep DRF's IntegerField)."""

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return cast(int, super().to_internal_value(data))


class UntrimmedCharField(StrictCharField):
    """A StrictCharField that refuses white space at either end (what str.strip() removes: spaces,
    line breaks, the separators U+001C-U+001F…) and U+0000 instead of trimming them: a string the
    schema calls invalid (STORED_TEXT) is never taken for another one. `" s1"` is refused, not
    read as `"s1"`; `"\\x1f"` is refused, not read as blank."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators.append(
            RegexValidator(
                STORED_TEXT,
                "No white space (a space, a line break, a separator) at either end, and no U+0000.",
            )
        )


class BoundedDictField(serializers.DictField):
    """A DictField of at most `max_length` entries, counted before any value is validated: DRF's
    DictField validates every value first, so a validate_<field> counting them refused a body of
    a hundred thousand entries only after as much CPU as the body limit allows. `message` is the
    refusal (`{max_length}` is filled in)."""

    default_error_messages = {"max_length": "At most {max_length} entries."}

    def __init__(self, *, max_length: int, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        if message is not None:
            self.error_messages["max_length"] = message

    def to_internal_value(self, data: dict[Any, Any]) -> dict[str, Any]:
        # Any JSON value comes here (DictField refuses what is not an object).
        if isinstance(data, dict) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return cast(dict[str, Any], super().to_internal_value(data))


class BoundedListField(serializers.ListField):
    """A ListField whose `max_length` is checked before any item is validated (DRF's checks it
    after validating every item: a batch of a hundred thousand writes cost a second of CPU
    before its 400), with DRF's own message, and its errors in ListField's shape."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    """A RegexField that takes only a JSON string (see StrictCharField), as sent: not trimmed, and
    matched whole. Python's `$` also matches before a final line break, the schema's (ECMA 262)
    does not: `"m1\n"` is refused, not taken as `"m1"`."""

    default_error_messages = {"not_a_string": "Not a valid string."}

    def __init__(self, regex: str | re.Pattern[str], **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(regex, **kwargs)
        self.whole_pattern = re.compile(regex) if isinstance(regex, str) else regex

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        value = super().to_internal_value(data)
        if self.whole_pattern.fullmatch(value) is None:
            self.fail("invalid")
        return value


# What auth/validate and multiplayer/validate-token share: the body, and the check of a player's
# token for the calling server's game (never an error for a bad token). A comment: drf-spectacular
# would publish a docstring as both endpoints' description.
class TokenValidationApi(GameServerApi):
    class InputSerializer(serializers.Serializer):
        token = AccessTokenField()

    def checked_token(self, request: ServerRequest) -> TokenCheck:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return validate_access_token(given.validated_data["token"], game_id=request.user.game_id)


# Called with no token (login, refresh, webhooks). A view that spends budgets lists them in
# `request.rate_budgets`; every answer, refusals included, then shows the tightest. (A comment,
# not a docstring: drf-spectacular would publish a docstring as every subclass's description.)
class PublicApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        return with_budget_headers(response, *getattr(request, "rate_budgets", ()))
