"""The API's JSON parsing: a body nested too deep to parse is bad JSON like any other."""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.utils import json as drf_json

TOO_DEEP = "JSON parse error - nested too deeply."


def finite_number(text: str) -> float:
    """A JSON number with a fraction or an exponent, as json reads it, but never infinite: `1e400`
    would be read as infinity, which is no JSON value (json.dumps writes `Infinity`), so no
    column, jsonb included, stores it and no answer renders it."""
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"Number out of range: {text[:40]}")
    return number


def unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose names are unique. `{"quantity": 1, "quantity": 100}` is JSON whose
    meaning parsers disagree on (Python keeps the last, others the first or refuse it): a proxy
    or a log could read another request than the one served, and a fingerprint taken of the
    parsed body would not tell two such bodies apart."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(f"Duplicate name {name[:40]!r} in an object")
            seen.add(name)
    return found


# Made once: json.loads builds a new decoder on each call given any option (2-3 us).
_STRICT_DECODER = json.JSONDecoder(
    parse_constant=drf_json.strict_constant,
    parse_float=finite_number,
    object_pairs_hook=unique_names,
)


def _strict_loads(raw: bytes | str) -> Any:
    """json.loads(raw) with the strict options, through the kept decoder."""
    if isinstance(raw, str):
        if raw.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
        return _STRICT_DECODER.decode(raw)
    return _strict_loads(raw.decode(json.detect_encoding(raw), "surrogatepass"))


def loads(raw: bytes | str, *, strict: bool = False) -> Any:
    """json.loads for JSON read by hand (webhooks, the panel's JSON inputs): a document nested
    deeper than the decoder's recursion limit is a ValueError, as other unreadable JSON is, not a
    RecursionError. `strict`, as the API's parser: NaN, Infinity, numbers too large to be
    anything else and an object naming a member twice are refused (ValueError)."""
    try:
        if strict:
            return _strict_loads(raw)
        return json.loads(raw)
    except RecursionError as error:
        raise ValueError(TOO_DEEP) from error


# The charsets a JSON body may name, as codecs calls them: JSON is UTF-8 (RFC 8259, 8.1), and
# ASCII is UTF-8's subset.
UTF8_CHARSETS = frozenset({"utf-8", "ascii"})


def is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name in UTF8_CHARSETS
    except LookupError:
        return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading the body in one call (DRF's reads it through a codecs stream
    reader, chunk by chunk: a tenth of a token validation), and answering deep nesting as
    `malformed_json` like any other unreadable JSON, as a number too large to be other than
    infinity (`1e400`) and an object naming a member twice are: DRF's strict parsing refuses
    only the words NaN and Infinity.

    A body is read as UTF-8, the only encoding of JSON (RFC 8259): a Content-Type naming
    another charset is 415 `unsupported_media_type`. DRF decoded it as named, so a client that
    labels its UTF-8 body `charset=ISO-8859-1` (as some HTTP libraries do by default) had every
    non-ASCII character stored garbled (`Zoë` as `ZoÃ«`), without an error."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if encoding != "utf-8" and not is_utf8(encoding):
            # Also a charset Python knows that is no text encoding (`charset=rot13`, `hex`).
            raise UnsupportedMediaType(
                media_type or "", detail=f"JSON is UTF-8; charset={encoding} is not read."
            )
        try:
            text = stream.read().decode()
            if self.strict:
                return _strict_loads(text)
            return json.loads(text)
        except RecursionError as error:
            raise ParseError(TOO_DEEP) from error
        except ValueError as error:
            # As DRF words it: bad JSON, bytes that are not UTF-8, NaN when strict.
            raise ParseError(f"JSON parse error - {error}") from error
