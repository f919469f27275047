"""Authentication endpoints: logout and validate (docs/auth.md); login, refresh, link and unlink
are in apps/login/api.py."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import (
    PlayerApi,
    PlayerRequest,
    ServerRequest,
    TokenValidationApi,
    problems,
)
from apps.accounts.services.sessions import log_out


class LogoutApi(PlayerApi):
    # A client that has spent its budget can still end its session (a shared device, a leak).
    refused_over_budget = False

    @extend_schema(summary="Log out: revoke this session", request=None, responses={204: None})
    def post(self, request: PlayerRequest) -> Response:
        log_out(session_id=request.auth.session_id)
        return Response(status=204)


class ValidateApi(TokenValidationApi):
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

    @extend_schema(
        summary="Validate a player's access token (game servers)",
        request=TokenValidationApi.InputSerializer,
        responses={200: OutputSerializer, **problems(_400="`validation_error`.")},
    )
    def post(self, request: ServerRequest) -> Response:
        return Response(self.checked_token(request).as_dict())
