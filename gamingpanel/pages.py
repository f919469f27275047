"""The HTML pages' answer when PostgreSQL or Redis is out of reach: a 503 page with Retry-After,
as the API answers 503 problem JSON (gamingpanel/problems.py), never a 500."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

from gamingpanel.errors import BadRequest
from gamingpanel.logging import request_id_var
from gamingpanel.middleware import is_api_request
from gamingpanel.problems import (
    BACKING_SERVICE_ERRORS,
    backing_service_down,
    client_error_of,
    domain_problem_response,
    problem_response,
)

logger = logging.getLogger("gamingpanel.request")
UNAVAILABLE_TEMPLATE = "503.html"
RETRY_AFTER_SECONDS = 5


def unavailable_page() -> HttpResponse:
    """Rendered without the request: no session, no user, nothing that needs the database."""
    body = render_to_string(UNAVAILABLE_TEMPLATE, {"retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class PageUnavailableMiddleware:
    """A panel, admin or docs view that finds PostgreSQL or Redis down answers the 503 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_api_request(request) or not isinstance(exception, BACKING_SERVICE_ERRORS):
            return None
        logger.error("backing service unreachable: %s", type(exception).__name__)
        return unavailable_page()


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 (DEBUG off): what a middleware's own failure comes to, outside any view. Django
    calls it while handling the exception, so it can tell a backing service's outage (503) from a
    bug (500)."""
    error = sys.exc_info()[1]
    down = isinstance(error, BACKING_SERVICE_ERRORS)
    if is_api_request(request):
        if down:
            return domain_problem_response(backing_service_down())
        return problem_response(
            status=500,
            code="internal_error",
            title="Internal server error",
            detail="Something went wrong on our side; quote the request id to support.",
            request_id=request_id_var.get(),
        )
    return unavailable_page() if down else defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: what Django answers for a request refused outside any view (a `Host` the
    panel does not serve, caught by CommonMiddleware): a problem on the API, as every answer
    there is; Django's page elsewhere."""
    if is_api_request(request):
        return domain_problem_response(
            client_error_of(exception) or BadRequest("The request was refused.")
        )
    return defaults.bad_request(request, exception)
