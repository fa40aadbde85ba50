"""What reading GIFT (``gift``) and writing it (``gift_export``) share: the escapes,
the category context Moodle writes, and the comment lines that carry a question's
metadata — ``// [tag:…]`` (Moodle 3.6+) and the Dangjian extensions ``// [difficulty:n]``
and ``// [answer:…]`` — read by ``comments_apply`` and written by ``comment_lines``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.utils.translation import gettext as _

from learning.common.text import excerpt
from quizzes.bank.formats.base import DEFAULT_DIFFICULTY, FIELD_DIFFICULTY, ParsedQuestion

CATEGORY_CONTEXT = "$course$/top"

# Escaped characters are swapped for private-use code points while the structure is
# parsed, and swapped back in the texts.
_PROTECTED = {
    "\\": "\ue000",
    "~": "\ue001",
    "=": "\ue002",
    "#": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    ":": "\ue006",
    "n": "\ue007",
}
_UNPROTECTED = {placeholder: character for character, placeholder in _PROTECTED.items()}
_UNPROTECTED["\ue007"] = "\n"
_UNPROTECT_TABLE = str.maketrans(_UNPROTECTED)
_ESCAPE_PATTERN = re.compile(r"\\(.)", re.DOTALL)

# The comments are read with str.find, not regular expressions: "[answer:" repeated
# 400,000 times made the old patterns backtrack for minutes (quadratic time).
_TAG_MARKER = "[tag:"
_DIFFICULTY_MARKER = "[difficulty:"
_ANSWER_MARKER = "[answer:"


def protect_escapes(text: str) -> str:
    """Each escaped character swapped for a private-use code point, so that it does not
    count while the structure (blocks, answers, feedback) is parsed."""

    def replace(match: re.Match[str]) -> str:
        character = match.group(1)
        return _PROTECTED.get(character, match.group(0))

    return _ESCAPE_PATTERN.sub(replace, text)


def unprotect_escapes(text: str) -> str:
    """The characters ``protect_escapes`` swapped, back as text (``\\n`` a line break)."""
    return text.translate(_UNPROTECT_TABLE)


def unescape(text: str) -> str:
    """GIFT escapes resolved: ``\\:`` → ``:``, ``\\n`` → line break …"""
    return unprotect_escapes(protect_escapes(text))


def escape(text: str) -> str:
    """Text made safe for GIFT: special characters escaped, line breaks as ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for character in text:
        if character == "\n":
            out.append("\\n")
        elif character in "\\~=#{}:":
            out.append("\\" + character)
        else:
            out.append(character)
    return "".join(out)


def comments_apply(
    question: ParsedQuestion, comments: list[str], add: Callable[[str, str], None]
) -> None:
    """The tags, difficulty and reference answer that ``comments`` (a question's comment
    lines) give ``question``; ``add(field, message)`` reports a difficulty that is not one."""
    tags = dict.fromkeys(question.tags)
    for comment in comments:
        for tag in _bracketed_values(comment, _TAG_MARKER):
            tag = tag.strip()
            if tag:
                tags[tag] = None
        difficulty = _first_bracketed_value(comment, _DIFFICULTY_MARKER)
        if difficulty is not None:
            value = difficulty.strip()
            if value.isdecimal() and len(value) <= 3:
                question.difficulty = int(value)
            else:
                add(
                    FIELD_DIFFICULTY,
                    _("“%(value)s” is not a difficulty: use a whole number from 1 to 5.")
                    % {"value": excerpt(value)},
                )
        reference = _answer_comment(comment)
        if reference is not None:
            question.reference_answer = unescape(reference).strip()
    question.tags = list(tags)


def _bracketed_values(comment: str, marker: str) -> Iterator[str]:
    """Each ``marker…]`` value (at least one character), left to right: what the pattern
    ``\\[tag:([^\\]]+)\\]`` finds, in linear time."""
    position = 0
    while (start := comment.find(marker, position)) != -1:
        value_start = start + len(marker)
        end = comment.find("]", value_start)
        if end == -1:
            return
        if end == value_start:
            position = start + 1
            continue
        yield comment[value_start:end]
        position = end + 1


def _first_bracketed_value(comment: str, marker: str) -> str | None:
    """The first ``marker…]`` value, possibly empty (``\\[difficulty:([^\\]]*)\\]``)."""
    start = comment.find(marker)
    if start == -1:
        return None
    end = comment.find("]", start + len(marker))
    return None if end == -1 else comment[start + len(marker) : end]


def _answer_comment(comment: str) -> str | None:
    """What follows the first ``[answer:`` up to the ``]`` that ends the comment.

    The value may hold brackets of its own: ``// [answer:为人民服务 [重点]]``.
    """
    stripped = comment.rstrip()
    if not stripped.endswith("]"):
        return None
    start = stripped.find(_ANSWER_MARKER)
    if start == -1 or start + len(_ANSWER_MARKER) > len(stripped) - 1:
        return None
    return stripped[start + len(_ANSWER_MARKER) : -1]


def comment_lines(question: ParsedQuestion) -> list[str]:
    """The comment lines that give ``question``'s tags, difficulty (unless the default)
    and reference answer, as ``comments_apply`` reads them back."""
    lines = [f"// {_TAG_MARKER}{tag}]" for tag in question.tags]
    if question.difficulty != DEFAULT_DIFFICULTY:
        lines.append(f"// {_DIFFICULTY_MARKER}{question.difficulty}]")
    if question.reference_answer:
        lines.append(f"// {_ANSWER_MARKER}{escape(question.reference_answer)}]")
    return lines
