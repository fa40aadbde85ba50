"""Helpers for the quiz tests: sheets built in memory, questions made through the import service."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from quizzes.bank.formats.base import ParsedChoice, ParsedQuestion, ParseResult
from quizzes.bank.formats.table import COLUMNS
from quizzes.bank.services import questions_import
from quizzes.models import Question


def make_xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or COLUMNS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_csv(rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    import csv

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def row(
    question_type: str,
    stem: str,
    options: list[str] | None = None,
    answer: str = "",
    explanation: str = "",
    difficulty: Any = "",
    category: str = "党史",
    tags: str = "",
) -> list[Any]:
    """A sheet row in COLUMNS order."""
    cells = list(options or [])
    cells += [""] * (6 - len(cells))
    return [question_type, stem, *cells, answer, explanation, difficulty, category, tags]


def single_choice(
    stem: str = "中国共产党第一次全国代表大会在哪一年召开？",
    options: tuple[str, ...] = ("1919", "1921", "1927", "1949"),
    correct: int = 1,
    category_path: tuple[str, ...] = ("党史",),
    tags: tuple[str, ...] = (),
) -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.SINGLE,
        stem=stem,
        choices=[
            ParsedChoice(
                text=text,
                is_correct=index == correct,
                weight=Decimal(1) if index == correct else Decimal(0),
            )
            for index, text in enumerate(options)
        ],
        category_path=list(category_path),
        tags=list(tags),
        source=2,
    )


def question_create(parsed: ParsedQuestion | None = None) -> Question:
    """One question in the bank, written the way imports write them."""
    result = questions_import(
        ParseResult(format="test", unit="row", questions=[parsed or single_choice()])
    )
    assert result.ok, [str(problem) for problem in result.problems]
    return Question.objects.get(pk=result.created_ids[0])
