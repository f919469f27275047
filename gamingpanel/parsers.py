"""The API's JSON parsing: a body nested too deep to parse is bad JSON like any other."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP = "JSON parse error - nested too deeply."


def loads(raw: bytes | str) -> Any:
    """json.loads for bodies read by hand (webhooks): a document nested deeper than the decoder's
    recursion limit is a ValueError, as other unreadable JSON is, not a RecursionError."""
    try:
        return json.loads(raw)
    except RecursionError as error:
        raise ValueError(TOO_DEEP) from error


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with deep nesting answered as `malformed_json`."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(TOO_DEEP) from error
