"""Which browser origins may call the API: each game lists its own (`Game.cors_allowed_origins`,
set in the admin), checked by django-cors-headers through its `check_request_enabled` signal.

- A preflight (OPTIONS with Access-Control-Request-Method) names no game: browsers send no
  X-Game-Key or token with it. It is answered for an origin that some game lists.
- An origin of CORS_ALLOWED_ORIGINS is answered for every game, compared as a game's are
  (parse_origins: lower-cased, without the scheme's default port).
- Any other request is answered with Access-Control-Allow-Origin only when the game it was
  identified with (X-Game-Key at login, the token's game, the server key's game) lists the
  origin. A request that named no game (a refused token, refresh) gets it when some game lists
  the origin and, if it sent an X-Game-Key, that game does.

No cookies or credentials (CORS_ALLOW_CREDENTIALS is off): the API authenticates by header only,
so CORS here decides which pages may read answers, not who is signed in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from corsheaders.middleware import CorsMiddleware
from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from apps.accounts.models import Game, parse_origins
from apps.accounts.selectors import game_by_client_key
from gamingpanel.access import GAME_ATTRIBUTE
from gamingpanel.shortcache import ShortCache

ORIGINS_SECONDS = 5.0  # an origin added or removed in the admin applies within this
_origins: ShortCache[dict[str, frozenset[int]]] = ShortCache(seconds=ORIGINS_SECONDS)


def games_by_origin() -> dict[str, frozenset[int]]:
    """Every listed origin -> the games listing it (one query at most every ORIGINS_SECONDS)."""

    def load() -> dict[str, frozenset[int]]:
        found: dict[str, set[int]] = {}
        rows = Game.objects.exclude(cors_allowed_origins="").values_list(
            "pk", "cors_allowed_origins"
        )
        for pk, text in rows:
            try:
                origins = parse_origins(text)
            except ValueError:
                continue  # saved around the admin's check: allow nothing rather than fail
            for origin in origins:
                found.setdefault(origin, set()).add(pk)
        return {origin: frozenset(games) for origin, games in found.items()}

    return _origins.get_or_load("all", load) or {}


def configured_origins() -> frozenset[str]:
    """CORS_ALLOWED_ORIGINS as a browser sends them. django-cors-headers compares its entries
    with the Origin header as typed, so `https://Play.example.com` or `https://x.example:443`
    would never match: each is read as a game's origins are."""
    return _parsed_origins(tuple(settings.CORS_ALLOWED_ORIGINS))


@functools.lru_cache(maxsize=4)
def _parsed_origins(entries: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for entry in entries:
        try:
            found.update(parse_origins(entry))
        except ValueError:
            continue  # not an origin parse_origins reads ("null"): django-cors-headers' own rule
    return frozenset(found)


def origin_allowed(request: HttpRequest) -> bool:
    if not request.path_info.startswith("/api/"):
        return False  # the panel and the admin are same-origin only
    origin = request.META.get("HTTP_ORIGIN", "").lower()
    if origin in configured_origins():
        return True  # allowed for every game
    games = games_by_origin().get(origin)
    if not games:
        return False
    if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
        return True
    game_id = getattr(request, GAME_ATTRIBUTE, None)
    if game_id is None and (key := request.META.get("HTTP_X_GAME_KEY")):
        game = game_by_client_key(key)
        game_id = game.pk if game is not None else -1
    return game_id is None or game_id in games


@receiver(check_request_enabled)
def _per_game_origins(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    return origin_allowed(request)


class GameCorsMiddleware(CorsMiddleware):
    """django-cors-headers' middleware, skipped for a request with no Origin header (game
    servers, native clients): it would parse every header of every request to look for one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        super().__init__(get_response)
        self.plain_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if "HTTP_ORIGIN" in request.META:
            return super().__call__(request)
        response = self.plain_response(request)
        if request.path_info.startswith("/api/"):
            patch_vary_headers(response, ("origin",))  # a cache must not reuse it for a page
        return response
