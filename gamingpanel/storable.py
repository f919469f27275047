"""JSON a client sends that the database can store as it is. Any JSON parses, but PostgreSQL's
jsonb (and text) cannot hold U+0000, and a lone surrogate (`"\\ud800"`) is no character UTF-8 can
encode: a key or a string with either, at any depth, would fail the write with a 500. They are
refused up front with a problem of their own instead."""

from __future__ import annotations

import json
import re
from typing import Any

from gamingpanel.errors import DomainError

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# U+0000 in a value's JSON text (json.dumps, ensure_ascii=False): the escape `\u0000` where its
# backslash is not itself escaped (`\\u0000` is a backslash and the text "u0000", storable).
ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class UnsupportedCharacter(DomainError):
    status, code, title = 422, "unsupported_character", "A character the panel cannot store"


def has_unstorable_text(value: Any) -> bool:
    """Whether a key or a string anywhere in the value holds U+0000 or a lone surrogate, read
    off the value's JSON text, which the C encoder makes: a lone surrogate stays in it as it is
    (and UTF-8 cannot encode it), U+0000 becomes an escape. A value the encoder cannot take
    (nested deeper than its recursion allows) is walked in Python instead, which for a save of
    tens of kilobytes costs more than encoding it."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        text.encode()
    except UnicodeEncodeError:
        return True
    except (RecursionError, TypeError, ValueError):
        return _walk_finds_unstorable(value)
    return "\\u0000" in text and ESCAPED_NUL.search(text) is not None


def _walk_finds_unstorable(value: Any) -> bool:
    """The same, walked without recursion: a value may nest as deep as the JSON parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def check_storable(value: Any, what: str) -> Any:
    """The value, or 422 `unsupported_character` naming what it is (`value`, `metadata`)."""
    if has_unstorable_text(value):
        raise UnsupportedCharacter(
            f"The {what} holds U+0000 or a lone surrogate in a key or a string; the panel "
            "stores neither. Leave the character out (or encode it, e.g. as base64)."
        )
    return value
