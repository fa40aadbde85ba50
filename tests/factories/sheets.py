"""Import files built in memory: question sheets (.xlsx, .csv) and member sheets (.xlsx).

A question sheet has the question importer's columns (``quizzes.bank.formats.table``);
``row`` lays out one question in that order. A member sheet has the member importer's
columns (``learning.people.member_import``). For hostile files see ``xlsx_attacks``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from learning.people.member_import import COLUMNS as MEMBER_COLUMNS
from quizzes.bank.formats.table import COLUMNS as QUESTION_COLUMNS


def xlsx_of(header: list[str], rows: list[list[Any]]) -> bytes:
    """A workbook whose one sheet holds ``header`` and then ``rows``."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    """A question sheet (the importer's columns unless ``header`` says otherwise)."""
    return xlsx_of(header or QUESTION_COLUMNS, rows)


def make_csv(rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """A question sheet as CSV."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(QUESTION_COLUMNS)
    for cells in rows:
        writer.writerow(cells)
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
    """A question sheet's row, in its columns' order."""
    cells = list(options or [])
    cells += [""] * (6 - len(cells))
    return [question_type, stem, *cells, answer, explanation, difficulty, category, tags]


def members_xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    """A member sheet: 用户名, 姓名, 手机, 组织编码 (unless ``header`` says otherwise)."""
    return xlsx_of(header or MEMBER_COLUMNS, rows)
