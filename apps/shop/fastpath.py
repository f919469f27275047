"""POST shop/purchase without DRF for the common case: a player token, a plain JSON body, a
virtual offer bought successfully (services/quick_purchase.py, one database round trip).

The 201 is byte for byte what the DRF path renders. Everything else returns None and the DRF
path answers as it always has: any token problem, any unusual request, and every purchase the
database function hands back (refusals, replays, real money, battle-pass lines…). The token is
checked as PlayerApi checks it, and its rate-limit budget is spent before the purchase; when the
fast path spent it and then fell back, the DRF path reuses that spending (`SPENT_BUDGET`)
instead of counting the request twice.
"""

from __future__ import annotations

import json
import re
import time

from django.db import connection
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from apps.accounts.models import Game
from apps.accounts.ratelimit import spend_token_budget
from apps.accounts.selectors import public_player
from apps.accounts.tokens import AccessClaims, decode_access_token, ensure_not_revoked
from apps.shop.services.quick_purchase import quick_purchase
from gamingpanel.errors import DomainError

# What a compact JWE is made of, and the Accept headers DRF's negotiation answers with plain
# JSON; anything else takes the DRF path, which refuses or renders it its own way.
TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]+")
PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})
MAX_BODY_BYTES = 1024  # {"offer_id": …, "quantity": …} is far smaller
MAX_ID = 2**63 - 1
MAX_KEY_LENGTH = 150  # as require_idempotency_key
# The HttpRequest attribute holding the budget the fast path spent before falling back.
SPENT_BUDGET = "shop_fast_path_budget"
# Each game's rate_limit_per_hour, per process: an operator's change reaches the fast path
# within this many seconds (the DRF path reads it on every request).
RATE_LIMIT_TTL_SECONDS = 10.0
_games: dict[int, tuple[float, Game]] = {}


def fast_purchase_response(view: APIView, request: HttpRequest) -> HttpResponse | None:
    """The 201 of a virtual purchase that succeeded; None when the DRF path must answer."""
    parsed = _parse(request)
    if parsed is None:
        return None
    token, key, offer_id, quantity = parsed
    try:
        claims = decode_access_token(token)
        ensure_not_revoked(claims)
    except DomainError:
        return None
    try:
        game = _game_limits(claims)
    except PlayerGone:
        return None
    # Spent as PlayerApi.initial spends it, before anything is bought.
    budget = spend_token_budget(request, token_id=claims.jti, game=game)
    setattr(request, SPENT_BUDGET, budget)
    if budget is not None and budget.exceeded:
        return None
    result = quick_purchase(
        player_id=claims.player_id,
        game_id=claims.game_id,
        offer_id=offer_id,
        quantity=quantity,
        idempotency_key=key,
    )
    if result is None:
        return None
    response = HttpResponse(
        JSONRenderer().render(result.body),
        status=result.status_code,
        content_type="application/json",
    )
    # The headers DRF's finalize_response and PlayerApi add, in the same order.
    for name, value in view.default_response_headers.items():
        response[name] = value
    if budget is not None:
        for name, value in budget.headers().items():
            response[name] = value
    return response


def _parse(request: HttpRequest) -> tuple[str, str, int, int] | None:
    """(token, idempotency key, offer id, quantity) of a request the fast path may answer."""
    meta = request.META
    authorization = meta.get("HTTP_AUTHORIZATION", "")
    if (
        request.method != "POST"
        or connection.vendor != "postgresql"
        or not authorization.startswith("Bearer ")
        or "HTTP_X_SERVER_KEY" in meta
        or meta.get("QUERY_STRING")
        or meta.get("HTTP_ACCEPT", "") not in PLAIN_ACCEPT
        or request.content_type != "application/json"
        or request.content_params.get("charset", "utf-8").lower() != "utf-8"
        or not meta.get("CONTENT_LENGTH", "").isdigit()
        or int(meta["CONTENT_LENGTH"]) > MAX_BODY_BYTES
    ):
        return None
    token = authorization.removeprefix("Bearer ")
    key = meta.get("HTTP_IDEMPOTENCY_KEY", "").strip()
    if not TOKEN_CHARACTERS.fullmatch(token) or not 0 < len(key) <= MAX_KEY_LENGTH:
        return None
    try:
        body = json.loads(request.body.decode(), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or not {"offer_id"} <= body.keys() <= {"offer_id", "quantity"}:
        return None
    offer_id, quantity = body["offer_id"], body.get("quantity", 1)
    if not (_is_int(offer_id) and 1 <= offer_id <= MAX_ID and _is_int(quantity)):
        return None
    if not 1 <= quantity <= 100:
        return None
    return token, key, offer_id, quantity


def _is_int(value: object) -> bool:
    return type(value) is int  # not bool, not float: DRF's IntegerField decides those


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # as DRF's strict JSONParser


class PlayerGone(Exception):
    """The token's player no longer exists: the DRF path answers that."""


def _game_limits(claims: AccessClaims) -> Game:
    """The token's game with its rate_limit_per_hour (the only field loaded), cached
    RATE_LIMIT_TTL_SECONDS per process."""
    now = time.monotonic()
    cached = _games.get(claims.game_id)
    if cached is not None and now - cached[0] < RATE_LIMIT_TTL_SECONDS:
        return cached[1]
    player = public_player(
        game_id=claims.game_id,
        player_id=claims.player_id,
        rate_limit_per_hour=F("game__rate_limit_per_hour"),
    )
    if player is None:
        raise PlayerGone
    game = Game(pk=claims.game_id, rate_limit_per_hour=player.rate_limit_per_hour)
    _games[claims.game_id] = (now, game)
    return game
