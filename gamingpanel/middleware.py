"""Request ids on every response, and problem JSON for API errors Django answers itself."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.deprecation import MiddlewareMixin

from gamingpanel.errors import PayloadTooLarge
from gamingpanel.logging import request_id_var
from gamingpanel.problems import (
    BACKING_SERVICE_ERRORS,
    PROBLEM_CONTENT_TYPE,
    backing_service_down,
    client_error_of,
    domain_problem_response,
    problem_response,
)

logger = logging.getLogger("gamingpanel.request")
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META_KEY = "HTTP_X_REQUEST_ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Takes a sane X-Request-ID from the caller or makes one, and echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: that would parse every header of every request (about
        # 4 % of a token validation's time) for the one we want.
        given = request.META.get(REQUEST_ID_META_KEY, "")
        # fullmatch: `$` alone also matches before a final line break, and an id ending in one
        # would be echoed into the answer's header, which Django refuses (a 500).
        request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


class PanelOnly(MiddlewareMixin):
    """For the middleware only the panel and the admin need (sessions, the logged-in operator,
    messages, CSRF): API requests skip it. The API authenticates every request by token or key
    and sets no cookies, so there these layers only cost time (about 0.3 ms a request, a tenth
    of a purchase's web CPU); with no session under /api/, there is nothing for CSRF to guard."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if is_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class PanelSessionMiddleware(PanelOnly, SessionMiddleware):
    pass


class PanelAuthenticationMiddleware(PanelOnly, AuthenticationMiddleware):
    pass


class PanelMessageMiddleware(PanelOnly, MessageMiddleware):
    pass


class PanelCsrfViewMiddleware(PanelOnly, CsrfViewMiddleware):
    def process_view(
        self, request: HttpRequest, callback: Callable, callback_args: tuple, callback_kwargs: dict
    ) -> HttpResponseForbidden | None:
        if is_api_request(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


def declares_too_large_a_body(request: HttpRequest) -> bool:
    """Django's own test for RequestDataTooBig, made before anything reads the body: DRF's parser
    reads the stream itself and would not apply it, and webhooks read request.body."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and declared > limit


class ApiProblemMiddleware:
    """Django answers unrouted paths, crashes and oversized bodies with HTML; the API answers
    problem JSON instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_request(request) and declares_too_large_a_body(request):
            return domain_problem_response(
                PayloadTooLarge(f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
            )
        response = self.get_response(request)
        if not is_api_request(request) or response.get("Content-Type", "").startswith(
            (PROBLEM_CONTENT_TYPE, "application/json", "application/vnd.oai")
        ):
            return response
        if response.status_code == 404:
            return problem_response(
                status=404, code="not_found", title="Not found", detail="No such endpoint."
            )
        if response.status_code == 405:
            return problem_response(
                status=405,
                code="method_not_allowed",
                title="Method not allowed",
                detail=f"{request.method} is not allowed here.",
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_request(request):
            return None
        if (client_error := client_error_of(exception)) is not None:
            logger.warning("request refused: %s", type(exception).__name__)
            return domain_problem_response(client_error)
        if isinstance(exception, BACKING_SERVICE_ERRORS):
            logger.error("backing service unreachable: %s", type(exception).__name__)
            return domain_problem_response(backing_service_down())
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            status=500,
            code="internal_error",
            title="Internal server error",
            detail="Something went wrong on our side; quote the request id to support.",
            request_id=request_id_var.get(),
        )
