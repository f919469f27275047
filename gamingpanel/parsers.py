"""The API's JSON parsing: a body nested too deep to parse is bad JSON like any other."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
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


def loads(raw: bytes | str, *, strict: bool = False) -> Any:
    """json.loads for JSON read by hand (webhooks, the panel's JSON inputs): a document nested
    deeper than the decoder's recursion limit is a ValueError, as other unreadable JSON is, not a
    RecursionError. `strict`, as the API's parser: NaN, Infinity and numbers too large to be
    anything else are refused (ValueError)."""
    try:
        if strict:
            return json.loads(
                raw, parse_constant=drf_json.strict_constant, parse_float=finite_number
            )
        return json.loads(raw)
    except RecursionError as error:
        raise ValueError(TOO_DEEP) from error


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading the body in one call (DRF's reads it through a codecs stream
    reader, chunk by chunk: a tenth of a token validation), and answering deep nesting as
    `malformed_json` like any other unreadable JSON, as a number too large to be other than
    infinity (`1e400`) is: DRF's strict parsing refuses only the words NaN and Infinity."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            if self.strict:
                return drf_json.loads(
                    text, parse_constant=drf_json.strict_constant, parse_float=finite_number
                )
            return json.loads(text)
        except RecursionError as error:
            raise ParseError(TOO_DEEP) from error
        except (ValueError, LookupError) as error:
            # As DRF words it: bad JSON, a bad encoding, NaN when strict. LookupError: a charset
            # Python knows but that is no text encoding (`charset=rot13`, `hex`).
            raise ParseError(f"JSON parse error - {error}") from error
