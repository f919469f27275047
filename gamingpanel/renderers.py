"""Content negotiation for the API: a client that accepts only `application/problem+json` (the
type of every error answer) gets the JSON answer, not a 406."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

JSON_MEDIA_TYPE = "application/json"
# The type of every error answer (RFC 9457), defined here, not in gamingpanel.problems: DRF
# imports this module while rest_framework.views loads, which gamingpanel.problems imports.
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemJsonNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, plus one fallback: where it finds nothing the view renders (a 406), an
    Accept naming `application/problem+json` gets the view's JSON renderer. A success is then
    answered as `application/json`, an error as `application/problem+json` (as always). Every
    Accept DRF could answer gets what it got before; any other still gets the 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)  # DRF passes a list: read twice below
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            renderer = next((r for r in renderers if r.media_type == JSON_MEDIA_TYPE), None)
            if renderer is None or not self.accepts_problem_json(request):
                raise
            return renderer, JSON_MEDIA_TYPE

    def accepts_problem_json(self, request: Request) -> bool:
        return any(
            token.partition(";")[0].strip().lower() == PROBLEM_CONTENT_TYPE
            for token in self.get_accept_list(request)
        )
