"""Base views every API app builds on, so each endpoint states who may call it."""

from __future__ import annotations

from rest_framework.views import APIView

from apps.accounts.authentication import (
    IsGameServer,
    IsPlayer,
    PlayerTokenAuthentication,
    ServerKeyAuthentication,
)


class PlayerApi(APIView):
    """Called by a game client with `Authorization: Bearer <access token>`."""

    authentication_classes = [PlayerTokenAuthentication, ServerKeyAuthentication]
    permission_classes = [IsPlayer]


class GameServerApi(APIView):
    """Called by a game server with `X-Server-Key`."""

    authentication_classes = [ServerKeyAuthentication, PlayerTokenAuthentication]
    permission_classes = [IsGameServer]


class PublicApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []
