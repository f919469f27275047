"""Content negotiation for the API: a client that accepts only `application/problem+json` (the
type of every error answer) gets the JSON answer, not a 406; and DRF's choice is remembered for
the few Accept headers clients send."""

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

# What a choice depends on: the format asked for (a URL suffix or the format query parameter),
# the Accept header and the view's renderer classes (DRF's renderers declare their media type
# and format on the class).
ChoiceKey = tuple[str | None, str | None, tuple[type[BaseRenderer], ...]]
# How many different choices a process remembers. Accept is the client's to write: past this
# many the memo starts again, so a client sending a new header each time costs memory for no
# more than this many and gets the same answers.
REMEMBERED_CHOICES = 256


class ProblemJsonNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, plus one fallback: where it finds nothing the view renders (a 406), an
    Accept naming `application/problem+json` gets the view's JSON renderer. A success is then
    answered as `application/json`, an error as `application/problem+json` (as always). Every
    Accept DRF could answer gets what it got before; any other still gets the 406.

    The choice (which of the view's renderers, which media type) is remembered per
    ChoiceKey: DRF's negotiation parses the Accept header and builds the query parameters of
    every request (about a fifth of the pipeline's own time on a GET with no query, against
    the plain token check), and its answer for the same inputs is always the same. A refusal
    (406, or 404 for an unknown format) is not remembered: it is raised afresh each time."""

    _chosen: dict[ChoiceKey, tuple[int, str]] = {}

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)  # DRF passes a list: read more than once below
        key = (
            self.format_asked(request, format_suffix),
            request.META.get("HTTP_ACCEPT"),
            tuple(type(renderer) for renderer in renderers),
        )
        if (chosen := self._chosen.get(key)) is not None:
            index, media_type = chosen
            return renderers[index], media_type
        renderer, media_type = self.negotiate(request, renderers, format_suffix)
        if len(self._chosen) >= REMEMBERED_CHOICES:
            self._chosen.clear()
        self._chosen[key] = (renderers.index(renderer), media_type)
        return renderer, media_type

    def format_asked(self, request: Request, format_suffix: str | None) -> str | None:
        """The format DRF's negotiation reads, without building the query parameters of a
        request that has none."""
        if format_suffix or not request.META.get("QUERY_STRING"):
            return format_suffix or None
        return request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)

    def negotiate(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None
    ) -> tuple[BaseRenderer, str]:
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
