"""What every question parser produces, and the pieces every format shares.

Each format (``table`` for .xlsx/.csv, ``gift``, ``aiken``) turns a file into a
``ParseResult``: the questions it could read (as ``ParsedQuestion``, a plain data
form independent of the database) and every ``ImportProblem`` it found, each naming
the row (tables) or line (text formats) and the field. Parsing is pure: no database.
The content rules are ``quizzes.bank.formats.checks``;
``quizzes.bank.services.questions_import`` adds the checks that need the database
(duplicates, categories) and writes all questions or none.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Literal

from django.utils.translation import gettext as _

from learning.common.sheets import MAX_UPLOAD_BYTES, file_too_large_message
from learning.common.text import excerpt
from quizzes.models.bank import (
    CATEGORY_SEPARATOR,
    DEFAULT_DIFFICULTY,
    Question,
)

QuestionType = Question.Type
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE})

# Field names used in problems: the column titles of the spreadsheet, which read well
# for the text formats too.
FIELD_TYPE = "题型"
FIELD_STEM = "题干"
FIELD_OPTIONS = "选项"
FIELD_ANSWER = "答案"
FIELD_EXPLANATION = "解析"
FIELD_DIFFICULTY = "难度"
FIELD_CATEGORY = "分类"
FIELD_TAGS = "标签"
FIELD_TITLE = "标题"

OPTION_LETTERS = "ABCDEF"
# Problems of one row are listed in the order of the sheet's columns.
FIELD_ORDER = [
    FIELD_TITLE,
    FIELD_TYPE,
    FIELD_STEM,
    FIELD_OPTIONS,
    *(f"{FIELD_OPTIONS}{letter}" for letter in OPTION_LETTERS),
    FIELD_ANSWER,
    FIELD_EXPLANATION,
    FIELD_DIFFICULTY,
    FIELD_CATEGORY,
    FIELD_TAGS,
]
MIN_CHOICES = 2
MAX_CHOICES = len(OPTION_LETTERS)
MAX_BLANKS = 20
MAX_STEM_LENGTH = 5000
MAX_TEXT_LENGTH = 5000
MAX_TITLE_LENGTH = 255
MAX_TAG_LENGTH = 100
MAX_TAGS = 20
MAX_CATEGORY_DEPTH = 10
MAX_ANSWERS_PER_BLANK = 20
MAX_QUESTIONS = 10_000
# Bounds of a whole file: its size, and the problems listed before reading stops (a
# file of a million bad lines would otherwise make a million problems).
MAX_FILE_BYTES = MAX_UPLOAD_BYTES
MAX_PROBLEMS = 1_000
# One question of a text format (GIFT, Aiken), comments included: far above any real
# question (the longest allowed fields add up to about 40,000 characters).
MAX_QUESTION_CHARS = 100_000
WEIGHT_PLACES = Decimal("0.0000001")
# Three options worth 1/3 each add up to 0.9999999: close enough to 100 %.
WEIGHT_TOLERANCE = Decimal("0.00001")

Unit = Literal["row", "line"]


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import: where (row or line, 1-based; 0 = the whole file),
    which field, and what, in words the editor can act on."""

    row: int
    field: str
    message: str
    unit: Unit = "row"

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        if self.unit == "row":
            if not self.field:
                return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}
            return _("Row %(row)d, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.field,
                "message": self.message,
            }
        if not self.field:
            return _("Line %(line)d: %(message)s") % {"line": self.row, "message": self.message}
        return _("Line %(line)d, %(field)s: %(message)s") % {
            "line": self.row,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ParsedChoice:
    text: str
    is_correct: bool
    weight: Decimal
    feedback: str = ""


@dataclass
class ParsedQuestion:
    """A question as read from a file (or from the bank, for export).

    ``source`` is the row or line it came from; it is left out of comparisons, so a
    question exported and imported again compares equal to the original.
    """

    type: str
    stem: str
    choices: list[ParsedChoice] = field(default_factory=list)
    blanks: list[list[str]] = field(default_factory=list)
    true_false_answer: bool | None = None
    reference_answer: str = ""
    explanation: str = ""
    difficulty: int = DEFAULT_DIFFICULTY
    category_path: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    title: str = ""
    source: int = field(default=0, compare=False)

    @property
    def option_texts(self) -> list[str]:
        return [choice.text for choice in self.choices]


@dataclass
class ParseResult:
    """The questions read from one file and every problem found in it."""

    format: str
    unit: Unit
    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, row: int, field_name: str, message: str) -> None:
        self.problems.append(ImportProblem(row, field_name, message, self.unit))

    def stop_when_too_many_problems(self, row: int) -> bool:
        """True (with a last problem saying so) once ``MAX_PROBLEMS`` are listed."""
        if len(self.problems) < MAX_PROBLEMS:
            return False
        self.problem(row, "", too_many_problems_message())
        return True


def too_many_problems_message() -> str:
    return _(
        "Too many problems: reading stopped here after the first %(max)d. Fix them and "
        "upload the file again."
    ) % {"max": MAX_PROBLEMS}


def file_too_large_problem(unit: Unit) -> ImportProblem:
    return ImportProblem(0, "", file_too_large_message(MAX_FILE_BYTES), unit)


def question_too_long_message() -> str:
    return _("The question is longer than %(max)s characters: shorten it or split it.") % {
        "max": f"{MAX_QUESTION_CHARS:,}"
    }


def too_long(maximum: int) -> str:
    return _("Longer than %(max)d characters.") % {"max": maximum}


def unknown_type_message(text: str) -> str:
    if not text:
        return _("The question type is empty: use 单选, 多选, 判断, 填空 or 简答.")
    message = _("Unknown question type “%(type)s”: use 单选, 多选, 判断, 填空 or 简答.")
    return message % {"type": excerpt(text)}


def sort_problems(problems: Iterable[ImportProblem]) -> list[ImportProblem]:
    """Problems without repeats, by row (or line), then in the order of the columns."""
    order = {name: position for position, name in enumerate(FIELD_ORDER)}
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda problem: (problem.row, order.get(problem.field, -1)))


def option_field(index: int) -> str:
    """The column title of the ``index``-th option: 选项A, 选项B …"""
    letter = OPTION_LETTERS[index] if index < len(OPTION_LETTERS) else str(index + 1)
    return f"{FIELD_OPTIONS}{letter}"


def type_label(question_type: str) -> str:
    return str(QuestionType(question_type).label)


# --- values shared by several formats -------------------------------------------------


def quantise_weight(value: Decimal) -> Decimal:
    return value.quantize(WEIGHT_PLACES, rounding=ROUND_HALF_EVEN)


def parse_percent(text: str) -> Decimal | None:
    """``50``, ``-33.33333`` or ``50%`` as a fraction (0.5 …); None when not a number."""
    text = text.strip().removesuffix("%").strip()
    if not re.fullmatch(r"[+-]?\d+(?:\.\d+)?", text):
        return None
    try:
        return quantise_weight(Decimal(text) / 100)
    except InvalidOperation:
        return None


def format_percent(weight: Decimal) -> str:
    """A weight as a percentage without needless zeros: 0.5 → ``50``, -1 → ``-100``."""
    text = f"{weight * 100:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def default_weights(question_type: str, correct: list[bool]) -> list[Decimal]:
    """The weights implied by a list of correct options.

    Single choice: 100 % for the correct option, 0 for the others. Multiple choice (as
    Moodle recommends for "multiple answers"): the correct options share +100 %, the
    wrong ones share -100 %, so ticking everything earns nothing.
    """
    if question_type == QuestionType.SINGLE:
        return [Decimal(1) if is_correct else Decimal(0) for is_correct in correct]
    right = sum(correct)
    wrong = len(correct) - right
    weights = []
    for is_correct in correct:
        if is_correct:
            weights.append(quantise_weight(Decimal(1) / right))
        elif wrong:
            weights.append(quantise_weight(Decimal(-1) / wrong))
        else:
            weights.append(Decimal(0))
    return weights


def choices_with_default_weights(
    question_type: str, options: list[str], correct_indexes: set[int]
) -> list[ParsedChoice]:
    correct = [index in correct_indexes for index in range(len(options))]
    weights = default_weights(question_type, correct)
    return [
        ParsedChoice(text=text, is_correct=is_correct, weight=weight)
        for text, is_correct, weight in zip(options, correct, weights, strict=True)
    ]


def has_default_weights(question: ParsedQuestion) -> bool:
    correct = [choice.is_correct for choice in question.choices]
    expected = default_weights(question.type, correct)
    return all(
        choice.weight == weight for choice, weight in zip(question.choices, expected, strict=True)
    )


def split_category_path(text: str) -> list[str]:
    """``党史/新民主主义革命时期`` → ``["党史", "新民主主义革命时期"]`` (also with ／ or >)."""
    text = text.strip()
    if not text:
        return []
    return [part.strip() for part in re.split(r"[/／>＞]", text)]


def join_category_path(names: Iterable[str]) -> str:
    return CATEGORY_SEPARATOR.join(names)


def split_tags(text: str) -> list[str]:
    """Tags separated by commas (, ，), 、 or semicolons; blanks and repeats dropped."""
    # A dict keeps the order and finds repeats in constant time, however many tags.
    tags = dict.fromkeys(part.strip() for part in re.split(r"[,，、;；\n]", text))
    tags.pop("", None)
    return list(tags)


def parse_difficulty(value: Any) -> int | None:
    """A difficulty cell (``3``, ``3.0``, ``"３"``) as an int; None when not a whole number."""
    if value is None or value == "":
        return DEFAULT_DIFFICULTY
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value)
    if len(text) > 20:
        return None
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return DEFAULT_DIFFICULTY
    # A few digits at most: "9" * 400 would overflow a float and 5,000 digits an int.
    if re.fullmatch(r"\d{1,3}(?:\.0{1,6})?", text):
        return int(text.partition(".")[0])
    return None


def decode_text(data: bytes) -> str | None:
    """Text files as editors have them: UTF-8 (with or without BOM), UTF-16 with a BOM
    (Excel's "Unicode text"), or GB18030 (Excel and Notepad on Chinese Windows).
    None when it is none of these."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def undecodable_problem(unit: Unit) -> ImportProblem:
    return ImportProblem(
        0,
        "",
        _("The file's text encoding is not recognised: save it as UTF-8 or GB18030 (GBK)."),
        unit,
    )
