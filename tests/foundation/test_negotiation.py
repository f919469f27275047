"""Content negotiation remembers DRF's choice per format, Accept header and renderers
(gamingpanel/renderers.py): the same answer as DRF's own negotiation, computed once."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient

from gamingpanel import renderers
from gamingpanel.renderers import ProblemJsonNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/*",
    "application/json; indent=4",
    "text/html",
    "text/html;q=0.9, application/json",
    "application/problem+json",
    "text/html, application/problem+json;q=0.9",
    "application/xml",
]
QUERIES = ["", "format=json", "format=api", "format=xml", "limit=5", "format="]
RENDERER_SETS = [(JSONRenderer,), (BrowsableAPIRenderer, JSONRenderer)]


@pytest.fixture
def empty_memo(monkeypatch):
    memo: dict = {}
    monkeypatch.setattr(ProblemJsonNegotiation, "_chosen", memo)
    return memo


def request_with(accept: str | None, query: str = "") -> Request:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(RequestFactory().get(f"/api/v1/health/live?{query}", **headers))


def outcome(negotiation, accept, query, renderer_classes, suffix=None):
    """(chosen renderer's class, media type, whether it is one of the instances given), or the
    refusal's class."""
    given = [renderer() for renderer in renderer_classes]
    try:
        renderer, media_type = negotiation(request_with(accept, query), given, suffix)
    except Exception as refusal:  # NotAcceptable (406) or Http404 (an unknown format)
        return type(refusal)
    return type(renderer), media_type, any(renderer is one for one in given)


@pytest.mark.parametrize("renderer_classes", RENDERER_SETS)
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_remembered_choice_is_drfs_choice(empty_memo, accept, query, renderer_classes):
    drf = outcome(ProblemJsonNegotiation().negotiate, accept, query, renderer_classes)
    select = ProblemJsonNegotiation().select_renderer
    assert outcome(select, accept, query, renderer_classes) == drf  # first: worked out
    assert outcome(select, accept, query, renderer_classes) == drf  # then: remembered


def test_one_memo_keeps_every_choice_apart(empty_memo):
    """Every combination through the same memo, twice: an input missing from the key would hand
    one request another's choice."""
    cases = [(a, q, r) for a in ACCEPTS for q in QUERIES for r in RENDERER_SETS]
    drf = [outcome(ProblemJsonNegotiation().negotiate, *case) for case in cases]
    select = ProblemJsonNegotiation().select_renderer
    for _ in range(2):
        assert [outcome(select, *case) for case in cases] == drf


@pytest.mark.parametrize("suffix", ["json", "api", "xml"])
def test_a_format_suffix_is_part_of_the_choice(empty_memo, suffix):
    renderer_classes = (BrowsableAPIRenderer, JSONRenderer)
    drf = outcome(ProblemJsonNegotiation().negotiate, "*/*", "", renderer_classes, suffix)
    select = ProblemJsonNegotiation().select_renderer
    for _ in range(2):
        assert outcome(select, "*/*", "", renderer_classes, suffix) == drf


def test_drf_negotiates_once_per_accept_header(empty_memo):
    with mock.patch.object(
        DefaultContentNegotiation,
        "select_renderer",
        autospec=True,
        side_effect=DefaultContentNegotiation.select_renderer,
    ) as drf:
        for accept in ["application/json", "*/*", "application/json", "*/*", "application/json"]:
            ProblemJsonNegotiation().select_renderer(request_with(accept), [JSONRenderer()])
    assert drf.call_count == 2
    assert len(empty_memo) == 2


def test_a_refusal_is_not_remembered(empty_memo):
    for _ in range(2):
        with pytest.raises(NotAcceptable):
            ProblemJsonNegotiation().select_renderer(request_with("text/html"), [JSONRenderer()])
    assert empty_memo == {}


def test_the_memo_holds_at_most_its_bound(empty_memo, monkeypatch):
    monkeypatch.setattr(renderers, "REMEMBERED_CHOICES", 8)
    for n in range(30):
        accept = f"application/json; version={n}"
        renderer, media_type = ProblemJsonNegotiation().select_renderer(
            request_with(accept), [JSONRenderer()]
        )
        assert media_type == accept
        assert len(empty_memo) <= 8
    assert empty_memo  # it still remembers the latest ones


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status", "content_type"),
    [
        ("", 200, "application/json"),
        ("?format=json", 200, "application/json"),
        ("?format=xml", 404, "application/problem+json"),
    ],
)
def test_over_http_every_request_gets_the_same_answer(query, status, content_type):
    api = APIClient()
    for _ in range(3):
        response = api.get(f"/api/v1/health/live{query}")
        assert response.status_code == status
        assert response["Content-Type"] == content_type
