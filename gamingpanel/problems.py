"""RFC 9457 problem JSON for every API error: DRF's, our DomainError, and Django's own 404/500."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler, set_rollback

from gamingpanel.errors import BadRequest, DomainError, PayloadTooLarge, ServiceUnavailable
from gamingpanel.renderers import PROBLEM_CONTENT_TYPE

logger = logging.getLogger(__name__)


def problem_body(*, status: int, code: str, title: str, detail: str, **extra: Any) -> dict:
    return {
        "type": f"/docs/errors#{code}",
        "title": title,
        "status": status,
        "detail": _encodable(detail),
        "code": code,
        **_encodable(extra),
    }


def _encodable(value: Any) -> Any:
    """What a problem echoes of the request (a field's input, a stat's name) as UTF-8 can carry
    it: a lone surrogate (`"\ud800"`, valid in JSON text, not in UTF-8) is written as its
    escape, so the answer is the 400 it should be rather than a 500 while rendering it."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return value.encode(errors="backslashreplace").decode()
        return value
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


def problem_response(
    *, status: int, code: str, title: str, detail: str, **extra: Any
) -> JsonResponse:
    """A problem answer outside DRF (middleware, plain Django views)."""
    body = problem_body(status=status, code=code, title=title, detail=detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def domain_problem_response(error: DomainError) -> JsonResponse:
    """A DomainError answered outside DRF, as the exception handler answers it inside."""
    response = problem_response(
        status=error.status, code=error.code, title=error.title, detail=error.detail, **error.extra
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def _drf_code(exc: Exception, data: Any) -> str:
    if isinstance(exc, exceptions.NotAuthenticated):
        return "not_authenticated"
    if isinstance(exc, exceptions.Throttled):
        return "rate_limited"
    if isinstance(exc, exceptions.ParseError):
        return "malformed_json"
    detail = data.get("detail") if isinstance(data, dict) else None
    code: str | None = getattr(detail, "code", None)
    if isinstance(exc, exceptions.APIException):
        return code or exc.default_code
    # Django's PermissionDenied, which DRF answers as its own: the detail carries the code.
    assert code is not None
    return code


# Redis or PostgreSQL out of reach (a refused or dropped connection, a statement cancelled, a
# deadlock): the client should retry shortly, so a 503, not a 500. Bugs (IntegrityError, a
# ProgrammingError) stay 500s.
BACKING_SERVICE_ERRORS = (RedisConnectionError, RedisTimeoutError, OperationalError, InterfaceError)


def client_error_of(exc: Exception) -> DomainError | None:
    """What Django raises for a request it refuses (SuspiciousOperation: too many fields, a body
    over the limit read anyway...) as the client's error Django itself would answer (400, 413),
    or None for anything else."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    if isinstance(exc, SuspiciousOperation):
        return BadRequest(f"The request was refused: {exc}")
    return None


def backing_service_down() -> ServiceUnavailable:
    error = ServiceUnavailable("A backing service is unreachable; retry shortly.")
    error.headers = {"Retry-After": "5"}
    return error


# The challenge of a 401 from a view that names no authentication class: login's, whose
# credential is the game's client key (X-Game-Key), no Authorization scheme (docs/guide/errors.md).
GAME_KEY_CHALLENGE = 'GameKey realm="api"'


def authenticate_header(context: dict) -> str:
    """The WWW-Authenticate challenge RFC 9110 (11.6.1) wants on every 401: the view's, as DRF
    names it for its own 401s (its first authentication class's: `Bearer` for player
    endpoints, `ServerKey` for game-server ones), else the game key's. Never None: DRF answers
    a 401 of its own with no challenge as a 403, and no status changes here."""
    view, request = context.get("view"), context.get("request")
    header = (
        view.get_authenticate_header(request)
        if isinstance(view, APIView) and isinstance(request, Request)
        else None
    )
    return str(header) if header else GAME_KEY_CHALLENGE


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    response: Response | None
    if (client_error := client_error_of(exc)) is not None:
        logger.warning("request refused: %s", type(exc).__name__)
        exc = client_error
    if isinstance(exc, BACKING_SERVICE_ERRORS):
        logger.error("backing service unreachable: %s", type(exc).__name__)
        exc = backing_service_down()
    if isinstance(exc, DomainError):
        set_rollback()
        status, code, title, detail, extra = exc.status, exc.code, exc.title, exc.detail, exc.extra
        response = Response(status=status, headers=dict(exc.headers))
    elif isinstance(exc, Http404):
        set_rollback()
        response = Response(status=404)
        code, title, detail, extra = "not_found", "Not found", str(exc) or "Not found.", {}
    elif (response := exception_handler(exc, context)) is None:
        return None  # a bug: Django logs it and the middleware answers a problem 500
    elif isinstance(exc, exceptions.ValidationError):
        code, title, detail = "validation_error", "Invalid input", "See errors."
        extra = {"errors": response.data}
    else:  # DRF's 401, 403, 404, 405, 415, 429…
        code = _drf_code(exc, response.data)
        title = response.status_text
        detail = str(response.data.get("detail", "")) if isinstance(response.data, dict) else ""
        extra = {}
    response.data = problem_body(
        status=response.status_code, code=code, title=title, detail=detail, **extra
    )
    response.content_type = PROBLEM_CONTENT_TYPE
    if response.status_code == 401 and "WWW-Authenticate" not in response:
        # One the answer already carries is kept: a refused bearer token's (with
        # error="invalid_token", RFC 6750), or DRF's own for not_authenticated.
        response["WWW-Authenticate"] = authenticate_header(context)
    return response
