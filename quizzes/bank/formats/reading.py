"""What every question-file reader does the same way, whatever its format.

The GIFT, Aiken and table (.xlsx, CSV) readers each parse their own syntax; around it,
they share one way of collecting: the file's text within its size (``text_read``), no
more than ``MAX_QUESTIONS`` questions (``stop_when_full``; ``ParseResult`` itself stops
at ``MAX_PROBLEMS`` problems), each question kept with the problems found reading it
and those the content rules find in the fields that did read (``question_keep``), and
the same end (``reading_end``): a file with nothing in it says so, and the problems are
sorted by row or line.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from quizzes.bank.formats.base import (
    MAX_FILE_BYTES,
    MAX_QUESTIONS,
    ImportProblem,
    ParsedQuestion,
    ParseResult,
    decode_text,
    file_too_large_problem,
    sort_problems,
    undecodable_problem,
)
from quizzes.bank.formats.checks import check_question


def text_read(data: bytes | str, result: ParseResult) -> str | None:
    """The file's text; None, with the problem noted in ``result``, when it is larger
    than ``MAX_FILE_BYTES`` or in no encoding an editor saves."""
    if len(data) > MAX_FILE_BYTES:
        result.problems.append(file_too_large_problem(result.unit))
        return None
    text = data if isinstance(data, str) else decode_text(data)
    if text is None:
        result.problems.append(undecodable_problem(result.unit))
    return text


def stop_when_full(result: ParseResult, row: int) -> bool:
    """True (with a problem at ``row`` saying so) once ``MAX_QUESTIONS`` are read."""
    if len(result.questions) < MAX_QUESTIONS:
        return False
    result.problem(
        row, "", _("Too many questions: at most %(max)d per file.") % {"max": MAX_QUESTIONS}
    )
    return True


def question_keep(
    result: ParseResult, question: ParsedQuestion | None, problems: list[ImportProblem]
) -> None:
    """Keep a question read (None: it could not be) and the problems found reading it.

    The content rules then check the question; a field that could not be read is
    reported once, by the reader, not again by the rules.
    """
    if question is not None:
        result.questions.append(question)
        unreadable = {problem.field for problem in problems}
        problems = problems + [
            problem
            for problem in check_question(question, result.unit)
            if problem.field not in unreadable
        ]
    result.problems.extend(problems)


def reading_end(result: ParseResult) -> ParseResult:
    """The result as every reader returns it: an empty file said so, problems sorted."""
    if not result.questions and not result.problems:
        result.problem(0, "", _("The file has no questions."))
    result.problems = sort_problems(result.problems)
    return result
