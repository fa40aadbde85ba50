"""Which text is accepted (learning.common.text); how hostile JSON bodies are read (json_body)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from learning.common.json_body import JSONBodyError, json_body_parse
from learning.common.text import (
    JSON_MAX_DEPTH,
    excerpt,
    json_cleaned,
    json_problem,
    text_cleaned,
    text_problem,
    validate_text,
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


# --- the check's messages and its validator ------------------------------------------


@pytest.fixture
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "value",
    [
        "",
        "中国共产党第一次全国代表大会",
        "tab\there, lines\nand\r\nreturns",
        "emoji 😀 and CJK extension B 𠀀",
        "\u00a0\u3000 full-width and no-break spaces",
        "\x7f DEL and \x85 NEL are not C0",
        "\ufeff byte-order mark",
    ],
)
@pytest.mark.usefixtures("_english")
def test_ordinary_text_passes(value: str) -> None:
    assert text_problem(value) is None
    validate_text(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("a\x00b", "U+0000"),
        ("\x01", "U+0001"),
        ("bell\x07", "U+0007"),
        ("vertical\x0btab", "U+000B"),
        ("form\x0cfeed", "U+000C"),
        ("escape\x1b[31m", "U+001B"),
        ("unit separator\x1f", "U+001F"),
        ("lone high \ud800", "U+D800"),
        ("lone low \udfff", "U+DFFF"),
        ("pair written as two \ud83d\ude00", "U+D83D"),
    ],
)
@pytest.mark.usefixtures("_english")
def test_nul_control_characters_and_surrogates_are_named(value: str, code: str) -> None:
    message = text_problem(value)
    assert message is not None
    assert code in message
    with pytest.raises(ValidationError) as raised:
        validate_text(value)
    assert raised.value.code == "invalid_text"


@pytest.mark.usefixtures("_english")
def test_the_first_offending_character_is_the_one_named() -> None:
    assert "U+0002" in text_problem("ok \x02 then \x00")


@pytest.mark.usefixtures("_english")
def test_the_message_is_chinese_by_default() -> None:
    with translation.override("zh-hans"):
        message = text_problem("\x00")
    assert "U+0000" in message
    assert "控制字符" in message


@pytest.mark.usefixtures("_english")
def test_non_strings_are_left_to_the_field() -> None:
    validate_text(None)
    validate_text(42)


@pytest.mark.usefixtures("_english")
def test_the_check_is_linear_on_large_text() -> None:
    started = time.perf_counter()
    assert text_problem("正常的文字" * 1_000_000) is None
    assert text_problem("a" * 5_000_000 + "\x00") is not None
    assert time.perf_counter() - started < 1


@given(st.text())
@pytest.mark.usefixtures("_english")
def test_the_check_agrees_with_its_definition(value: str) -> None:
    allowed = {"\t", "\n", "\r"}
    expected_bad = [
        character
        for character in value
        if (ord(character) < 0x20 and character not in allowed)
        or 0xD800 <= ord(character) <= 0xDFFF
    ]
    message = text_problem(value)
    assert (message is None) == (not expected_bad)
    if expected_bad:
        assert f"U+{ord(expected_bad[0]):04X}" in message


@pytest.mark.usefixtures("_english")
def test_excerpt_cuts_long_text_with_an_ellipsis() -> None:
    assert excerpt("short") == "short"
    assert excerpt("x" * 100, 10) == "x" * 9 + "…"
    assert len(excerpt("x" * 100)) == 30
