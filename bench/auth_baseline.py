"""The panel's URLs plus the two baselines bench/auth_validate.py measures auth/validate against:

(a) a plain Django view doing the same token verification (JWE decryption, simplejwt signature
    and expiry), with no database, no cache, no DRF and no server key;
(b) simplejwt's stock TokenVerifyView, verifying a plain signed JWT (no encryption).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework_simplejwt.views import TokenVerifyView

from apps.accounts.errors import TokenError
from apps.accounts.tokens import decode_access_token
from gamingpanel.urls import urlpatterns as panel_urlpatterns

# Under /api/, as the endpoints they are compared with: the same middleware runs for all four.
PLAIN_VIEW = "/api/bench/plain-validate"
STOCK_VIEW = "/api/bench/simplejwt-verify"


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


urlpatterns = [
    path(PLAIN_VIEW.lstrip("/"), plain_validate),
    path(STOCK_VIEW.lstrip("/"), TokenVerifyView.as_view()),
    *panel_urlpatterns,
]
