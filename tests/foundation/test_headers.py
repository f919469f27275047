"""gamingpanel.headers.request_header reads one header as request.headers would, without building
the dictionary of every header."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from gamingpanel.headers import etag_current, request_header


@pytest.mark.parametrize("name", ["If-None-Match", "if-none-match", "IF-NONE-MATCH"])
def test_a_header_is_read_by_its_name_in_any_case(name):
    request = RequestFactory().get("/", HTTP_IF_NONE_MATCH='"3"', HTTP_X_CLIENT_VERSION="1.4.2")

    assert request_header(request, name) == request.headers[name] == '"3"'
    assert request_header(request, "X-Client-Version") == "1.4.2"


def test_an_absent_header_is_none_and_an_empty_one_is_empty():
    request = RequestFactory().get("/", HTTP_IF_MATCH="")

    assert request_header(request, "If-None-Match") is None
    assert request_header(request, "If-Match") == ""


@pytest.mark.parametrize(
    ("sent", "current"),
    [
        ('"3"', True),
        ('W/"3"', True),  # weak comparison: a proxy may weaken the tag
        ('"2", "3"', True),  # any of a list
        ('"1",W/"3"', True),
        ("*", True),  # whatever exists
        ('"2"', False),
        ('"33"', False),
        ("3", False),  # not an entity tag
        ("", False),
    ],
)
def test_if_none_match_names_the_current_etag(sent, current):
    request = RequestFactory().get("/", HTTP_IF_NONE_MATCH=sent)

    assert etag_current(request, '"3"') is current


def test_no_if_none_match_is_never_current():
    assert etag_current(RequestFactory().get("/"), '"3"') is False
