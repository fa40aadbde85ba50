"""Moodle's Aiken format: single-choice questions in plain text.

::

    中国共产党第一次全国代表大会在哪一年召开？
    A. 1919
    B. 1921
    C. 1927
    ANSWER: B

The stem comes first (Moodle wants one line; several lines are accepted and kept),
then options ``A.`` or ``A)`` (also ``A、`` and full-width ``Ａ．``/``Ａ）``), then
``ANSWER:`` with the letter (``答案：`` works too). Several letters (``ANSWER: AC``) make a
multiple-choice question — an extension Moodle does not read. The format has no
categories, tags or explanations: the import's category is used.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from learning.common.text import excerpt
from quizzes.bank.formats.base import (
    FIELD_ANSWER,
    FIELD_OPTIONS,
    MAX_QUESTION_CHARS,
    ParsedQuestion,
    ParseResult,
    QuestionType,
    choices_with_default_weights,
    question_too_long_message,
)
from quizzes.bank.formats.reading import question_keep, reading_end, stop_when_full, text_read

FORMAT = "aiken"
_OPTION = re.compile(r"^([A-ZＡ-Ｚ])\s*[.)、．）]\s*(\S.*)$")
_ANSWER = re.compile(r"^(?:ANSWER|ＡＮＳＷＥＲ|答案)\s*[:：]\s*(.*)$", re.IGNORECASE)


class _Pending:
    def __init__(self, line: int) -> None:
        self.line = line
        self.stem_lines: list[str] = []
        self.options: list[str] = []
        self.size = 0

    def add_size(self, line: str) -> bool:
        """Count a line in; True once the question is longer than allowed."""
        self.size += len(line) + 1
        if self.size <= MAX_QUESTION_CHARS:
            return False
        self.stem_lines.clear()
        self.options.clear()
        return True


def parse_aiken(data: bytes | str) -> ParseResult:
    """Read an Aiken file. Pure: no database access.

    Linear in the file's size: at most ``MAX_FILE_BYTES``, a question at most
    ``MAX_QUESTION_CHARS``, and reading stops after ``MAX_PROBLEMS``.
    """
    result = ParseResult(format=FORMAT, unit="line")
    text = text_read(data, result)
    if text is None:
        return result
    pending: _Pending | None = None
    too_long = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if result.stop_when_too_many_problems(number):
            pending = None
            break
        answer = _ANSWER.match(line)
        if too_long:
            # Skip the rest of an overlong question, up to its ANSWER line.
            if answer:
                too_long = False
                pending = None
            continue
        option = _OPTION.match(line)
        if answer:
            if pending is None or not pending.options:
                result.problem(number, FIELD_ANSWER, _("An ANSWER line without options before it."))
                pending = None
                continue
            if stop_when_full(result, number):
                break
            _finish(pending, answer.group(1), number, result)
            pending = None
        elif option and pending is not None and pending.stem_lines:
            if pending.add_size(line):
                result.problem(pending.line, "", question_too_long_message())
                too_long = True
                continue
            expected = chr(ord("A") + len(pending.options))
            letter = unicodedata.normalize("NFKC", option.group(1))
            if letter != expected:
                result.problem(
                    number,
                    FIELD_OPTIONS,
                    _("Option %(letter)s is out of order: %(expected)s was expected.")
                    % {"letter": letter, "expected": expected},
                )
            pending.options.append(option.group(2).strip())
        else:
            if pending is not None and pending.options:
                result.problem(
                    pending.line,
                    FIELD_ANSWER,
                    _("The question has no ANSWER line after its options."),
                )
                pending = None
            if pending is None:
                pending = _Pending(number)
            if pending.add_size(line):
                result.problem(pending.line, "", question_too_long_message())
                too_long = True
                continue
            pending.stem_lines.append(line)
    if pending is not None and not too_long:
        result.problem(
            pending.line, FIELD_ANSWER, _("The question has no ANSWER line after its options.")
        )
    return reading_end(result)


def _finish(pending: _Pending, letters_text: str, line: int, result: ParseResult) -> None:
    letters = re.sub(r"[\s,、]", "", unicodedata.normalize("NFKC", letters_text)).upper()
    if not re.fullmatch(r"[A-Z]+", letters):
        result.problem(
            line,
            FIELD_ANSWER,
            _(
                "“%(answer)s” is not an answer: write the letter of the correct option, "
                "e.g. ANSWER: B."
            )
            % {"answer": excerpt(letters_text)},
        )
        return
    indexes = {ord(letter) - ord("A") for letter in letters}
    beyond = [letter for letter in letters if ord(letter) - ord("A") >= len(pending.options)]
    if beyond:
        result.problem(
            line,
            FIELD_ANSWER,
            _("The answer names option %(letter)s, which the question does not have.")
            % {"letter": beyond[0]},
        )
        return
    question_type = QuestionType.SINGLE if len(indexes) == 1 else QuestionType.MULTIPLE
    question = ParsedQuestion(
        type=question_type,
        stem="\n".join(pending.stem_lines),
        choices=choices_with_default_weights(question_type, pending.options, indexes),
        source=pending.line,
    )
    question_keep(result, question, [])
