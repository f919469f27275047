"""Authentication endpoints: logout and validate (docs/auth.md); login, refresh, link and unlink
are in apps/login/api.py."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import hotcache
from apps.accounts.api_base import GameServerApi, PlayerApi
from apps.accounts.authentication import stamp_use
from apps.accounts.errors import TokenError
from apps.accounts.mirror import MISS, mirror
from apps.accounts.models import ServerKey, hash_key
from apps.accounts.revocation import revocation_keys
from apps.accounts.selectors import server_key_cache_key
from apps.accounts.services.sessions import log_out
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
