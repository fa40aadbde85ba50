"""Export the question bank (or one category and everything below it) to .xlsx or GIFT.

Both formats import back into the same questions: see ``quizzes.bank.formats``.
"""

from __future__ import annotations

from learning.common.spreadsheets import XLSX_CONTENT_TYPE
from quizzes.bank.formats.gift_export import questions_to_gift
from quizzes.bank.formats.xlsx import questions_to_xlsx
from quizzes.bank.selectors import questions_as_parsed, questions_for_export
from quizzes.models import QuestionCategory

EXPORT_FORMATS = ("xlsx", "gift")
CONTENT_TYPES = {
    "xlsx": XLSX_CONTENT_TYPE,
    "gift": "text/plain; charset=utf-8",
}
FILE_EXTENSIONS = {"xlsx": ".xlsx", "gift": ".gift.txt"}


def questions_export(
    *,
    format_name: str,
    category: QuestionCategory | None = None,
    include_retired: bool = False,
) -> tuple[bytes, int]:
    """The exported file's bytes and how many questions it holds."""
    if format_name not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format_name!r}")
    questions = questions_as_parsed(
        questions_for_export(category=category, include_retired=include_retired)
    )
    if format_name == "xlsx":
        return questions_to_xlsx(questions), len(questions)
    return questions_to_gift(questions).encode("utf-8"), len(questions)
