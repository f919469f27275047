"""One JSON access line and one latency observation per request.

Sits right inside RequestIdMiddleware, so its lines carry the request id. It also writes
Django's own "Bad Request: …" / "Not Found: …" warning for 4xx and 5xx answers while the id is
still set (Django's handler would write it after every middleware has returned, with no id),
naming the route as well (the path only when no route matched).

The line names the route (the URL pattern's name, never the path or its query string, where a
secret could sit), the game and the player when the request pipeline identified them
(`tag_request`), and never a header or a body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response

from gamingpanel.metrics import REQUESTS

access_logger = logging.getLogger("gamingpanel.access")

UNMATCHED = "unmatched"  # no URL pattern matched (a 404 before any view)
GAME_ATTRIBUTE = "gp_game_id"
PLAYER_ATTRIBUTE = "gp_player_id"
# A label per distinct value a client sends would grow without bound: other methods count as one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def tag_request(request: object, *, game_id: int | None, player_id: int | None = None) -> None:
    """Name the caller's game and player for the access line. Takes Django's request or DRF's
    (whose attributes are its own: the tag goes on the Django request it wraps)."""
    target = getattr(request, "_request", request)
    setattr(target, GAME_ATTRIBUTE, game_id)
    if player_id is not None:
        setattr(target, PLAYER_ATTRIBUTE, player_id)


def route_name(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is None:
        return UNMATCHED
    return match.view_name or match.route or UNMATCHED


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.log_every_request = settings.ACCESS_LOG
        # Each (route, method, status)'s histogram child, looked up once: labels() costs more
        # than the observation itself.
        self._histograms: dict[tuple[str, str, int], Callable[[float], None]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration = time.perf_counter() - started
        route = route_name(request)
        status = response.status_code
        method = request.method if request.method in METHODS else "other"
        key = (route, method, status)
        if (observe := self._histograms.get(key)) is None:
            observe = self._histograms[key] = REQUESTS.labels(route, method, str(status)).observe
        observe(duration)
        if status >= 400:
            # The route's name, as the access line: a path can carry a secret (a sandbox
            # checkout's token). A path no route matched is named as sent, so a client's wrong
            # URL can be found (the log filter still scrubs anything token-shaped in it).
            named = request.path if route == UNMATCHED else route
            log_response(
                "%s: %s", response.reason_phrase, named, response=response, request=request
            )
        if self.log_every_request and access_logger.isEnabledFor(logging.INFO):
            # makeRecord and handle, as Logger.info would, without its walk up the stack for
            # the caller's file and line (the same for every line: this one).
            access_logger.handle(
                access_logger.makeRecord(
                    access_logger.name,
                    logging.INFO,
                    __file__,
                    0,
                    "%s %s %s",
                    (method, route, status),
                    None,
                    extra={
                        "access": {
                            "method": method,
                            "route": route,
                            "status": status,
                            "duration_ms": round(duration * 1000, 2),
                            "game_id": getattr(request, GAME_ATTRIBUTE, None),
                            "player_id": getattr(request, PLAYER_ATTRIBUTE, None),
                        }
                    },
                )
            )
        return response
