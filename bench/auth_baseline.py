"""The panel's URLs plus the two baselines bench/auth_validate.py measures auth/validate against:

(a) a plain Django view doing the same token verification (decode_access_token: JWE decryption,
    simplejwt signature and expiry, verified once per process), with no database, no Redis, no
    DRF and no server key;
(b) simplejwt's stock TokenVerifyView, verifying a plain signed JWT (no encryption);
(c) the floor of a read: view (a) plus one indexed query of the player's progress row through
    Django's connection, the least any authenticated GET can do. It shows how much of a GET's
    cost is the database round trip itself rather than the pipeline around it;
(d) the floor of the pipeline: a PlayerApi view (DRF, the token, revocation, the player, the
    rate-limit budget, its headers) that answers the player's id and reads nothing more.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenVerifyView

from apps.accounts.api_base import PlayerApi, PlayerRequest
from apps.accounts.errors import TokenError
from apps.accounts.tokens import decode_access_token
from gamingpanel.urls import urlpatterns as panel_urlpatterns

# Under /api/, as the endpoints they are compared with: the same middleware runs for all four.
PLAIN_VIEW = "/api/bench/plain-validate"
STOCK_VIEW = "/api/bench/simplejwt-verify"
FLOOR_VIEW = "/api/bench/plain-read"
PIPELINE_VIEW = "/api/bench/pipeline-only"


@csrf_exempt
def plain_validate(request: HttpRequest) -> JsonResponse:
    try:
        claims = decode_access_token(json.loads(request.body)["token"])
    except (ValueError, KeyError, TypeError, TokenError):
        return JsonResponse({"valid": False})
    return JsonResponse(
        {
            "valid": True,
            "player_id": claims.player_id,
            "game_id": claims.game_id,
            "permissions": list(claims.permissions),
            "expires_at": claims.expires_at.isoformat(),
        }
    )


def plain_read(request: HttpRequest) -> JsonResponse:
    try:
        header = request.headers["Authorization"]
        claims = decode_access_token(header.removeprefix("Bearer "))
    except (KeyError, TokenError):
        return JsonResponse({"valid": False}, status=401)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xp FROM stats_playerprogress WHERE player_id = %s", [claims.player_id]
        )
        row = cursor.fetchone()
    return JsonResponse({"player_id": claims.player_id, "xp": row[0] if row else 0})


class PipelineOnly(PlayerApi):
    def get(self, request: PlayerRequest) -> Response:
        return Response({"player_id": request.user.pk})


urlpatterns = [
    path(PIPELINE_VIEW.lstrip("/"), PipelineOnly.as_view()),
    path(FLOOR_VIEW.lstrip("/"), plain_read),
    path(PLAIN_VIEW.lstrip("/"), plain_validate),
    path(STOCK_VIEW.lstrip("/"), TokenVerifyView.as_view()),
    *panel_urlpatterns,
]
