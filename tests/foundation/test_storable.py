"""gamingpanel.storable: U+0000 or a lone surrogate anywhere in a key or a string is found by one
search of the value's JSON text, backslashes sent as text are not mistaken for the escape, and a
value too deep for the encoder is walked instead."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gamingpanel.storable import has_unstorable_text, too_deep


@pytest.mark.parametrize(
    "value",
    [
        "a\x00b",
        {"k\x00": 1},
        [[{"deep": ["\x00"]}]],
        "\ud800",
        {"\udfff": True},
        "x\\\x00",  # a backslash, then U+0000: `\\\u0000` in the text
        "\\\\\x00",  # two backslashes, then U+0000
    ],
)
def test_unstorable_text_is_found_at_any_depth(value):
    assert has_unstorable_text(value)


@pytest.mark.parametrize(
    "value",
    [
        "\\u0000",  # a backslash and the text "u0000": `\\u0000` in the JSON text
        {"a": "\\\\u0000"},
        "u0000",
        "\\",
        [1, 2.5, None, True, "é😀", {"k": "\x01\x1f"}],
    ],
)
def test_backslashes_and_other_characters_are_storable(value):
    assert not has_unstorable_text(value)


def test_a_value_deeper_than_the_encoder_goes_is_walked():
    deepest: list = []
    value = deepest
    for _ in range(5_000):
        deepest.append([])
        deepest = deepest[0]

    assert not has_unstorable_text(value)
    deepest.append("\x00")
    assert has_unstorable_text(value)


# Any text, surrogates included: the search answers what a look at each character would.
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0xFFFF), max_size=12)
VALUES = st.recursive(
    st.none() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def _characters(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "".join(_characters(k) + _characters(v) for k, v in value.items())
    if isinstance(value, list):
        return "".join(_characters(item) for item in value)
    return ""


@given(VALUES)
def test_the_search_finds_exactly_the_values_holding_such_a_character(value):
    text = _characters(value)
    expected = any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in text)

    assert has_unstorable_text(value) is expected


@pytest.mark.parametrize(
    ("value", "deep"),
    [
        (1, False),
        ([], False),
        ({"a": [[{"b": []}]]}, False),
        ("[" * 500, False),  # brackets in a string are no nesting
        ([[{"k": "x"}]] * 100, False),  # many containers, three levels
        (json.loads("[" * 64 + "]" * 64), False),
        (json.loads("[" * 65 + "]" * 65), True),
        ({"a": json.loads("[" * 64 + "]" * 64)}, True),
    ],
)
def test_too_deep_counts_levels_of_arrays_and_objects(value, deep):
    assert too_deep(value) is deep


def test_a_value_deeper_than_the_encoder_goes_is_too_deep():
    value: list = []
    for _ in range(5_000):
        value = [value]
    assert too_deep(value)
