"""Question file formats: .xlsx and CSV (one question per row), GIFT and Aiken (Moodle).

``parse_questions(data, format)`` reads any of them into a ``ParseResult``;
``quizzes.bank.services.questions_import`` checks it against the bank and writes it.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from quizzes.bank.formats.aiken import parse_aiken
from quizzes.bank.formats.base import ImportProblem, ParsedChoice, ParsedQuestion, ParseResult
from quizzes.bank.formats.checks import check_question
from quizzes.bank.formats.csvfile import parse_csv
from quizzes.bank.formats.gift import parse_gift
from quizzes.bank.formats.xlsx import parse_xlsx

FORMATS = ("xlsx", "csv", "gift", "aiken")
_AIKEN_ANSWER_LINE = re.compile(rb"(?mi)^[ \t]*ANSWER[ \t]*:")
_EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv", ".gift": "gift", ".aiken": "aiken"}

__all__ = [
    "FORMATS",
    "ImportProblem",
    "ParseResult",
    "ParsedChoice",
    "ParsedQuestion",
    "check_question",
    "guess_format",
    "parse_questions",
]


def parse_questions(data: bytes, format_name: str) -> ParseResult:
    """Read a question file of the given format (one of ``FORMATS``)."""
    parsers = {"xlsx": parse_xlsx, "csv": parse_csv, "gift": parse_gift, "aiken": parse_aiken}
    if format_name not in parsers:
        raise ValueError(f"unknown question format {format_name!r}")
    return parsers[format_name](data)


def guess_format(filename: str, data: bytes | None = None) -> str | None:
    """The format a file is in, from its extension; a ``.txt`` file is looked at.

    Moodle saves GIFT as ``.txt``; Aiken files are ``.txt`` too. A text file with an
    ``ANSWER:`` line and no braces is Aiken, one with braces is GIFT.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix != ".txt" or data is None:
        return None
    if b"{" in data and b"}" in data:
        return "gift"
    # Spaces and tabs only, not \s: "^\s*" can run over every following blank line, and
    # a file of blank lines then took quadratic time (minutes for a few hundred KB).
    if _AIKEN_ANSWER_LINE.search(data):
        return "aiken"
    return None
