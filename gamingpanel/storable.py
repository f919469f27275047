"""JSON a client sends that the database can store as it is. Any JSON parses, but PostgreSQL's
jsonb (and text) cannot hold U+0000, and a lone surrogate (`"\\ud800"`) is no character UTF-8 can
encode: a key or a string with either, at any depth, would fail the write with a 500. They are
refused up front with a problem of their own instead.

So is a value nested deeper than MAX_DEPTH: the parser reads as deep as the interpreter's
recursion allows from where it runs, and encoding the value again for the database, many calls
further down, would run out of it (a RecursionError, a 500) for the deepest of those."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from gamingpanel.errors import DomainError

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# U+0000 in a value's JSON text (json.dumps, ensure_ascii=False): the escape `\u0000` where its
# backslash is not itself escaped (`\\u0000` is a backslash and the text "u0000", storable).
ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


MAX_DEPTH = 64  # arrays and objects within each other; a scalar alone is depth 0


class UnsupportedCharacter(DomainError):
    status, code, title = 422, "unsupported_character", "A character the panel cannot store"


class ValueTooDeep(DomainError):
    status, code, title = 422, "value_too_deep", "JSON nested deeper than the panel stores"


def too_deep(value: Any) -> bool:
    """Whether arrays and objects nest more than MAX_DEPTH levels in the value. Its JSON text
    (the C encoder) holding no more brackets than that settles it for almost every value; else
    the containers are walked, without recursion."""
    try:
        text = json.dumps(value, separators=(",", ":"))
    except (RecursionError, TypeError, ValueError):
        return _depth_over(value, MAX_DEPTH)
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    return _depth_over(value, MAX_DEPTH)


def _depth_over(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


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
    """The value, or 422 `value_too_deep` or `unsupported_character` naming what it is (`value`,
    `metadata`)."""
    if too_deep(value):
        raise ValueTooDeep(
            f"The {what} nests arrays and objects {MAX_DEPTH + 1} or more levels deep; the "
            f"panel stores at most {MAX_DEPTH}."
        )
    if has_unstorable_text(value):
        raise UnsupportedCharacter(
            f"The {what} holds U+0000 or a lone surrogate in a key or a string; the panel "
            "stores neither. Leave the character out (or encode it, e.g. as base64)."
        )
    return value


def stored_json(value: Any) -> tuple[str, int]:
    """The value as compact JSON text (UTF-8, no ASCII escapes), and its size in bytes as
    PostgreSQL's jsonb keeps it, which every size limit counts. jsonb writes numbers out in plain
    decimal, so `1e308` (6 bytes sent) is stored and read back as 309 digits: counted as sent, a
    client could keep fifty times a limit."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # A lone surrogate is counted, not an error here: check_storable refuses it.
    size = len(text.encode(errors="surrogatepass"))
    # Only a number in exponent form grows; JSON writes each one with "e+" or "e-".
    if "e+" in text or "e-" in text:
        size += _plain_decimal_growth(value)
    return text, size


def _plain_decimal_growth(value: Any) -> int:
    """How many bytes longer the value's numbers are in plain decimal than as JSON wrote them
    (float.__repr__, as the json module does). Iterative: values nest up to MAX_DEPTH levels."""
    growth, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float) and "e" in (written := repr(item)):
            growth += max(len(format(Decimal(written), "f")) - len(written), 0)
    return growth
