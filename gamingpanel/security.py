"""The HTML pages' own protections: the Content-Security-Policy header (django-csp) on every HTML
answer, the page an operator's login locked out by django-axes gets (429, Retry-After), and what
Django's error page shows of the settings."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.debug import SafeExceptionReporterFilter

from gamingpanel.logging import scrub
from gamingpanel.middleware import is_api_request

LOCKED_OUT_TEMPLATE = "admin/locked_out.html"


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page's own look, saying what happened and for how long."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    response = render(
        request,
        LOCKED_OUT_TEMPLATE,
        {
            "title": "Too many failed logins",
            "username": get_client_username(request, credentials) or "",
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": minutes,
        },
        status=429,
    )
    if cool_off:
        response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response


def _is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class PageCspMiddleware(CSPMiddleware):
    """CONTENT_SECURITY_POLICY on the pages (panel, admin, docs, the API reference, checkout
    pages): every text/html answer. JSON answers skip it, and API requests skip the nonce set-up
    (the policy uses no nonce)."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_api_request(request):
            response = self.get_response(request)
            assert isinstance(response, HttpResponseBase)
            return self.process_response(request, response)
        return super().__call__(request)  # type: ignore[return-value]

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not _is_html(response):
            return response
        return super().process_response(request, response)


class SecretsReporterFilter(SafeExceptionReporterFilter):
    """DEFAULT_EXCEPTION_REPORTER_FILTER. Django's error page (DEBUG, which any visitor who makes
    a request fail sees) lists the settings, hiding those whose name says secret (KEY, TOKEN,
    PASS…); a password inside a URL is not in such a name (REDIS_URL, CELERY_BROKER_URL, the
    cache's LOCATION, CELERY_RESULT_BACKEND): every value is also scrubbed as the logs are."""

    def cleanse_setting(self, key: int | str, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        # type(), not isinstance(): a lazy object (a lazy translation) claims to be a str.
        return scrub(cleansed) if type(cleansed) is str else cleansed
