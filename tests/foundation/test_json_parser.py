"""The API's JSON parser reads the body in one call and answers every unreadable body as DRF's
own parser does: a ParseError ("JSON parse error - ...")."""

import io

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DrfJSONParser

from gamingpanel.parsers import JSONParser

BODIES = {
    "an object": b'{"token": "abc", "n": 1.5, "list": [1, "\\u00e9"]}',
    "utf-8 text": '{"name": "Zoë ✓"}'.encode(),
    "NaN": b'{"n": NaN}',
    "Infinity": b"[Infinity]",
    "a byte-order mark": b'\xef\xbb\xbf{"a": 1}',
    "not utf-8": b'{"a": "\xff"}',
    "truncated": b'{"a": ',
    "empty object": b"{}",
}


def outcome(parser, body: bytes):
    try:
        return "ok", parser.parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})
    except ParseError as refused:
        return "refused", str(refused.detail)


@pytest.mark.parametrize("case", list(BODIES))
def test_each_body_gets_drfs_answer(case):
    assert outcome(JSONParser(), BODIES[case]) == outcome(DrfJSONParser(), BODIES[case])


def test_nesting_too_deep_is_a_parse_error_not_a_crash():
    assert outcome(JSONParser(), b"[" * 100_000)[0] == "refused"
