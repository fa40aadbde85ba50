"""Which text is accepted (learning.text); how hostile JSON bodies are read (learning.json_body)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learning.json_body import JSONBodyError, json_body_parse
from learning.text import (
    JSON_MAX_DEPTH,
    json_cleaned,
    json_problem,
    text_cleaned,
    text_problem,
)

INVALID = ["\ud800", "ok\udfff", "\udbff\udc00", "a\x00b", "\x01", "\x08", "\x0b", "\x0c", "\x1f"]
VALID = ["", "一切为了群众", "😀 naïve", "第一行\n第二行\r\n\t缩进", "\x7f", "\u2028", "\ufffd"]


@pytest.mark.parametrize("text", INVALID)
def test_lone_surrogates_nul_and_controls_are_refused(text):
    assert text_problem(text)
    assert text_problem(text_cleaned(text)) is None


@pytest.mark.parametrize("text", VALID)
def test_ordinary_text_tabs_and_line_breaks_are_accepted(text):
    assert text_problem(text) is None
    assert text_cleaned(text) == text


def test_a_surrogate_becomes_a_replacement_character_and_controls_go():
    assert text_cleaned("好\ud800\x00的\x1b") == "好\ufffd的"


@given(st.text())
def test_cleaning_makes_any_text_acceptable_and_changes_only_invalid_text(text):
    cleaned = text_cleaned(text)
    assert text_problem(cleaned) is None
    assert text_cleaned(cleaned) == cleaned
    assert (cleaned == text) == (text_problem(text) is None)


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_not():
    assert json_problem(_nested(JSON_MAX_DEPTH)) is None
    assert "20" in json_problem(_nested(JSON_MAX_DEPTH + 1))


@pytest.mark.parametrize(
    "value",
    [
        {"text": "\ud800"},
        {"\x00": "key"},
        [1, [2, ["a\x01"]]],
        {"n": float("inf")},
        [float("nan")],
    ],
)
def test_a_bad_string_key_or_number_anywhere_is_found(value):
    assert json_problem(value)


def test_json_cleaned_repairs_keys_and_strings_and_keeps_the_rest():
    value = {"t\ud800": ["a\x00", 1, 2.5, True, None, {"k": "好"}]}
    assert json_cleaned(value) == {"t\ufffd": ["a", 1, 2.5, True, None, {"k": "好"}]}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"{" * 100_000,
        b'{"a":' * 50_000,
        b"1e400",
        b"NaN",
        b"-Infinity",
        b'"\\ud800"',
        b'{"x": "\\u0000"}',
        b"\xff\xfe",
        b"{{{",
        b"",
    ],
)
def test_hostile_bodies_are_a_json_body_error(body):
    with pytest.raises(JSONBodyError) as error:
        json_body_parse(body)
    assert error.value.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_any_json_value_parses_or_is_refused_with_a_json_body_error(value):
    raw = json.dumps(value)
    try:
        parsed = json_body_parse(raw.encode())
    except JSONBodyError:
        assert json_problem(json.loads(raw))
    else:
        assert json_problem(parsed) is None


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_are_refused_with_a_json_body_error(raw):
    with contextlib.suppress(JSONBodyError):
        json_body_parse(raw)
