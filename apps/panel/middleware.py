"""Every answer of a panel view is kept by no cache: it shows one operator's games and players."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

PANEL_APP_NAME = "panel"  # apps/panel/urls.py's app_name


class PanelNeverCacheMiddleware:
    """Cache-Control: no-store, private (Django's never_cache) on whatever a view of the panel's
    URLs answers: pages, CSV exports, redirects, refusals. Keyed on the resolved URL, so a page
    added to apps/panel/urls.py needs nothing more; other answers (the API, the admin, which
    marks its own pages) are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        match = request.resolver_match  # set once the URL resolved (None before that)
        if match is not None and match.app_name == PANEL_APP_NAME:
            add_never_cache_headers(response)
        return response
