"""``learning.text``: the one check of "can this text be stored" used by every input."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from learning.text import excerpt, text_problem, validate_text


@pytest.fixture(autouse=True)
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
def test_nul_control_characters_and_surrogates_are_named(value: str, code: str) -> None:
    message = text_problem(value)
    assert message is not None
    assert code in message
    with pytest.raises(ValidationError) as raised:
        validate_text(value)
    assert raised.value.code == "invalid_text"


def test_the_first_offending_character_is_the_one_named() -> None:
    assert "U+0002" in text_problem("ok \x02 then \x00")


def test_the_message_is_chinese_by_default() -> None:
    with translation.override("zh-hans"):
        message = text_problem("\x00")
    assert "U+0000" in message
    assert "控制字符" in message


def test_non_strings_are_left_to_the_field() -> None:
    validate_text(None)
    validate_text(42)


def test_the_check_is_linear_on_large_text() -> None:
    started = time.perf_counter()
    assert text_problem("正常的文字" * 1_000_000) is None
    assert text_problem("a" * 5_000_000 + "\x00") is not None
    assert time.perf_counter() - started < 1


@given(st.text())
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


def test_excerpt_cuts_long_text_with_an_ellipsis() -> None:
    assert excerpt("short") == "short"
    assert excerpt("x" * 100, 10) == "x" * 9 + "…"
    assert len(excerpt("x" * 100)) == 30
