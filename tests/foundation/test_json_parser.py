"""The API's JSON parser reads the body in one call and answers every unreadable body as DRF's
own parser does: a ParseError ("JSON parse error - ...")."""

import io

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DrfJSONParser

from gamingpanel.parsers import JSONParser, loads

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


@pytest.mark.parametrize("body", [b"[1e400]", b'{"a": {"b": -1E+999}}', b"2.5e308"])
def test_a_number_too_large_to_be_other_than_infinity_is_refused(body):
    # DRF reads it as infinity, which is no JSON value: no column stores it, no answer renders it.
    assert outcome(DrfJSONParser(), body)[0] == "ok"
    verdict, detail = outcome(JSONParser(), body)
    assert verdict == "refused" and "Number out of range" in detail


def test_large_finite_numbers_are_read_as_ever():
    body = b"[1.7976931348623157e308, -1e-400, 123456789012345678901234567890, 0.1]"
    assert outcome(JSONParser(), body) == outcome(DrfJSONParser(), body)


def test_hand_read_json_refuses_infinity_only_when_strict():
    assert loads("1e400") == float("inf")  # webhooks: read as the sender wrote it
    with pytest.raises(ValueError, match="Number out of range"):
        loads("[1e400]", strict=True)


@pytest.mark.parametrize("body", [b'{"a": 1, "a": 1}', b'[{"x": {"b": 1, "c": 2, "b": 3}}]'])
def test_an_object_naming_a_member_twice_is_refused(body):
    # DRF keeps the last: `{"quantity": 1, "quantity": 100}` meant what a proxy reading the first
    # did not.
    assert outcome(DrfJSONParser(), body)[0] == "ok"
    verdict, detail = outcome(JSONParser(), body)
    assert verdict == "refused" and "Duplicate name" in detail
    with pytest.raises(ValueError, match="Duplicate name"):
        loads(body, strict=True)
    assert loads(body) is not None  # webhooks: read as the sender wrote it


def test_hand_read_strict_json_reads_bytes_and_refuses_a_bom_in_text_as_json_does():
    assert loads('{"a": [1, "é"]}'.encode("utf-16"), strict=True) == {"a": [1, "é"]}
    with pytest.raises(ValueError, match="BOM"):
        loads('\ufeff{"a": 1}', strict=True)
