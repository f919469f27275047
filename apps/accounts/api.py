"""Authentication endpoints: login, refresh, logout, validate, link and unlink (docs/auth.md)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import hotcache
from apps.accounts.api_base import GameServerApi, PlayerApi, PublicApi
from apps.accounts.authentication import require_game, stamp_use
from apps.accounts.errors import InvalidToken, TokenError
from apps.accounts.mirror import MISS, mirror
from apps.accounts.models import PlatformIdentity, ServerKey, hash_key
from apps.accounts.ratelimit import (
    enforce,
    spend_address_budget,
    spend_game_budget,
)
from apps.accounts.revocation import revocation_keys
from apps.accounts.selectors import identities_of, server_key_cache_key
from apps.accounts.services.identities import link_identity, unlink_identity
from apps.accounts.services.login import log_in
from apps.accounts.services.sessions import (
    MAX_REFRESH_TOKEN_LENGTH,
    IssuedTokens,
    find_refresh_token,
    log_out,
    refresh_session,
)
from apps.accounts.tokens import (
    MAX_TOKEN_LENGTH,
    TokenCheck,
    check_claims,
    decode_access_token,
    validate_access_token,
)


def problems(**described: str) -> dict[int, OpenApiResponse]:
    """Error answers for the schema: status -> which codes (the body is always a problem)."""
    return {
        int(status[1:]): OpenApiResponse(description=text) for status, text in described.items()
    }


VERIFY_PROBLEMS = {
    "_400": "`validation_error`, `unsupported_platform` or `platform_not_configured`.",
    "_401": "`invalid_credentials`: the platform refused the credential.",
    "_403": "`not_entitled` (the platform did not confirm ownership) or `player_banned`.",
    "_503": "`platform_unavailable`: the platform is down or slow; retry later.",
}
REFUSED_TOKEN = (
    "`token_expired`, `token_revoked`, `invalid_token` or `refresh_token_reused` "
    "(the session is revoked)."
)


class PlatformCredentialsInput(serializers.Serializer):
    platform = serializers.CharField(max_length=20)
    credentials = serializers.DictField(help_text="Per platform: see docs/platforms.md.")


class TokenPairOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Seconds the access token lives (7200).")
    refresh_expires_in = serializers.IntegerField(help_text="Seconds the refresh token lives.")


def token_pair(tokens: IssuedTokens) -> dict[str, object]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        "refresh_expires_in": int(settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
    }


class LoginApi(PublicApi):
    class OutputSerializer(TokenPairOutput):
        class PlayerOutput(serializers.Serializer):
            id = serializers.IntegerField()
            display_name = serializers.CharField()
            created = serializers.BooleanField(help_text="True on this player's first login.")

        player = PlayerOutput()

    @extend_schema(
        summary="Log in with a platform credential",
        request=PlatformCredentialsInput,
        responses={
            200: OutputSerializer,
            **problems(
                **VERIFY_PROBLEMS,
                _429="`rate_limited`: too many logins from this address or for this game.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        address_budget = spend_address_budget(request._request)
        request.rate_budgets = [address_budget]
        enforce(address_budget)  # before the key lookup: guessing game keys costs budget too
        game = require_game(request)
        game_budget = spend_game_budget(request._request, game_id=game.pk)
        request.rate_budgets.append(game_budget)
        enforce(game_budget)
        given = PlatformCredentialsInput(data=request.data)
        given.is_valid(raise_exception=True)
        result = log_in(game=game, **given.validated_data)
        body = {
            **token_pair(result.tokens),
            "player": {
                "id": result.player.pk,
                "display_name": result.player.display_name,
                "created": result.created,
            },
        }
        return Response(body)


class RefreshApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        refresh_token = serializers.CharField(max_length=MAX_REFRESH_TOKEN_LENGTH)

    @extend_schema(
        summary="Rotate a refresh token into a new pair",
        request=InputSerializer,
        responses={
            200: TokenPairOutput,
            **problems(
                _400="`validation_error`.",
                _401=REFUSED_TOKEN,
                _403="`player_banned`.",
                _429="`rate_limited`: too many refreshes from this address or for this game.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        address_budget = spend_address_budget(request._request)
        request.rate_budgets = [address_budget]
        enforce(address_budget)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        found = find_refresh_token(given.validated_data["refresh_token"])
        if found is None:
            raise InvalidToken("Unknown refresh token.")
        game_budget = spend_game_budget(request._request, game_id=found.game_id)
        request.rate_budgets.append(game_budget)
        enforce(game_budget)
        return Response(token_pair(refresh_session(token=found)))


class LogoutApi(PlayerApi):
    @extend_schema(summary="Log out: revoke this session", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        log_out(session_id=request.auth.session_id)
        return Response(status=204)


def is_token_shaped(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH and token.strip() == token


def quick_token_check(raw_key: str, token: object) -> tuple[ServerKey, TokenCheck] | None:
    """A server key and a token checked by this process's mirror (no round trip), or else in
    one cache round trip: the key and the session's revocation state read together. None when
    the full path must answer (a token not token-shaped, the cache unreadable, the key unknown,
    revoked or not cached yet)."""
    if not raw_key or not is_token_shaped(token):
        return None
    key_hash = hash_key(raw_key)
    try:
        claims = decode_access_token(token)
    except TokenError as refused:
        claims, answer = None, TokenCheck(valid=False, reason=refused.code)
    server_key = mirror.server_key(key_hash)
    revocation: list[object] | None = None  # None: check_claims asks the mirror
    if server_key is None or (claims is not None and mirror.revocation(claims.session_id) is MISS):
        generation = mirror.generation()
        keys = [server_key_cache_key(key_hash)]
        if claims is not None:
            keys += revocation_keys(claims.session_id)
        try:
            server_key, *revocation = hotcache.get_many(keys)
        except Exception:  # the full path falls back to the database
            return None
        if not isinstance(server_key, ServerKey):  # unknown, revoked or not cached yet
            return None
        mirror.remember_server_key(key_hash, server_key, since=generation)
    stamp_use(server_key)
    if claims is not None:
        answer = check_claims(claims, game_id=server_key.game_id, cached=revocation)
    return server_key, answer


def quick_validation(request: HttpRequest) -> JsonResponse | None:
    """auth/validate in one cache round trip (quick_token_check). None when the full path
    must answer."""
    raw_key = request.META.get("HTTP_X_SERVER_KEY")
    if request.method != "POST" or not raw_key or "HTTP_AUTHORIZATION" in request.META:
        return None
    try:
        token = json.loads(request.body).get("token")
    except (ValueError, AttributeError, RecursionError):
        return None
    checked = quick_token_check(raw_key, token)
    if checked is None:
        return None
    return JsonResponse(checked[1].as_dict(), json_dumps_params={"separators": (",", ":")})


class ValidateApi(GameServerApi):
    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=MAX_TOKEN_LENGTH)

    class OutputSerializer(serializers.Serializer):
        valid = serializers.BooleanField()
        player_id = serializers.IntegerField(required=False)
        game_id = serializers.IntegerField(required=False)
        permissions = serializers.ListField(child=serializers.CharField(), required=False)
        expires_at = serializers.DateTimeField(required=False)
        reason = serializers.CharField(
            required=False,
            help_text="When not valid: token_expired, token_revoked, player_banned, "
            "invalid_token or wrong_game (a token of another game).",
        )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Game servers call this for every player they admit. The common case (a server key
        # already in the shared cache, a JSON body with a token) is answered without DRF's
        # request, negotiation and rendering machinery, which cost more than the token check.
        # Anything else (no key, an unknown or uncached key, a bad body, a player token as
        # caller) takes the full path below, which answers the same way.
        quick = quick_validation(request)
        return quick if quick is not None else super().dispatch(request, *args, **kwargs)

    @extend_schema(
        summary="Validate a player's access token (game servers)",
        request=InputSerializer,
        responses={200: OutputSerializer, **problems(_400="`validation_error`.")},
    )
    def post(self, request: Request) -> Response:
        token = request.data.get("token") if isinstance(request.data, dict) else None
        if not is_token_shaped(token):
            raise ValidationError(
                {"token": [f"A token string of at most {MAX_TOKEN_LENGTH} characters."]}
            )
        check = validate_access_token(token, game_id=request.user.game_id)
        return Response(check.as_dict())


class IdentitiesOutput(serializers.Serializer):
    class IdentityOutput(serializers.Serializer):
        platform = serializers.CharField()
        platform_user_id = serializers.CharField()
        linked_at = serializers.DateTimeField(source="created_at")

    identities = IdentityOutput(many=True)


def identities_response(identities: list[PlatformIdentity]) -> Response:
    return Response(IdentitiesOutput({"identities": identities}).data)


class LinkApi(PlayerApi):
    @extend_schema(
        summary="Link another platform identity to this player",
        request=PlatformCredentialsInput,
        responses={
            200: IdentitiesOutput,
            **problems(
                **VERIFY_PROBLEMS,
                _409="`identity_taken` (another player has it) or `platform_already_linked`.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        given = PlatformCredentialsInput(data=request.data)
        given.is_valid(raise_exception=True)
        link_identity(player=request.user, **given.validated_data)
        return identities_response(identities_of(player=request.user))


class UnlinkApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        platform = serializers.CharField(max_length=20)

    @extend_schema(
        summary="Unlink a platform identity (never the last one)",
        request=InputSerializer,
        responses={
            200: IdentitiesOutput,
            **problems(
                _404="`identity_not_linked`.",
                _409="`last_identity`: a player keeps at least one identity.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        unlink_identity(player=request.user, **given.validated_data)
        return identities_response(identities_of(player=request.user))
