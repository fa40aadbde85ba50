"""What every question parser produces, and the content rules every question must meet.

Each format (``table`` for .xlsx/.csv, ``gift``, ``aiken``) turns a file into a
``ParseResult``: the questions it could read (as ``ParsedQuestion``, a plain data
form independent of the database) and every ``ImportProblem`` it found, each naming
the row (tables) or line (text formats) and the field. Parsing is pure: no database.
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
from learning.common.text import excerpt, text_problem
from quizzes.bank.normalise import count_blank_markers, normalise_answer
from quizzes.models.bank import (
    CATEGORY_NAME_MAX_LENGTH,
    CATEGORY_SEPARATOR,
    DEFAULT_DIFFICULTY,
    MAX_DIFFICULTY,
    MIN_DIFFICULTY,
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


# --- the content rules ----------------------------------------------------------------


def check_question(question: ParsedQuestion, unit: Unit = "row") -> list[ImportProblem]:
    """Every way ``question`` breaks the bank's rules, whatever format it came from."""
    row = question.source
    problems: list[ImportProblem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(ImportProblem(row, field_name, message, unit))

    if question.type not in QuestionType.values:
        add(FIELD_TYPE, unknown_type_message(question.type))
        return problems
    problems.extend(_check_text(question, unit))
    if not question.stem.strip():
        add(FIELD_STEM, _("The stem is empty."))
    elif len(question.stem) > MAX_STEM_LENGTH:
        add(
            FIELD_STEM,
            too_long(MAX_STEM_LENGTH),
        )
    if len(question.title) > MAX_TITLE_LENGTH:
        add(
            FIELD_TITLE,
            too_long(MAX_TITLE_LENGTH),
        )
    if len(question.explanation) > MAX_TEXT_LENGTH:
        add(
            FIELD_EXPLANATION,
            too_long(MAX_TEXT_LENGTH),
        )
    if len(question.reference_answer) > MAX_TEXT_LENGTH:
        add(FIELD_ANSWER, too_long(MAX_TEXT_LENGTH))
    if not MIN_DIFFICULTY <= question.difficulty <= MAX_DIFFICULTY:
        add(
            FIELD_DIFFICULTY,
            _("The difficulty must be a whole number from %(min)d to %(max)d.")
            % {"min": MIN_DIFFICULTY, "max": MAX_DIFFICULTY},
        )
    problems.extend(_check_category(question, unit))
    if len(question.tags) > MAX_TAGS:
        add(FIELD_TAGS, _("At most %(max)d tags per question.") % {"max": MAX_TAGS})
    for tag in question.tags[: MAX_TAGS + 1]:
        if len(tag) > MAX_TAG_LENGTH:
            add(
                FIELD_TAGS,
                _("The tag “%(tag)s” is longer than %(max)d characters.")
                % {"tag": tag[:20], "max": MAX_TAG_LENGTH},
            )

    if question.type in CHOICE_TYPES:
        problems.extend(_check_choices(question, unit))
    else:
        if question.choices:
            add(
                FIELD_OPTIONS,
                _("Only single- and multiple-choice questions have options."),
            )
    if question.type == QuestionType.TRUE_FALSE and question.true_false_answer is None:
        add(FIELD_ANSWER, _("A true-or-false question needs the answer 对 or 错."))
    if question.type == QuestionType.FILL_BLANK:
        problems.extend(_check_blanks(question, unit))
    elif question.blanks:
        add(FIELD_ANSWER, _("Only fill-in-the-blank questions have blanks."))
    return problems


def _check_text(question: ParsedQuestion, unit: Unit) -> list[ImportProblem]:
    """Characters that cannot be stored (NUL, control characters, lone surrogates)."""
    fields: list[tuple[str, str]] = [
        (FIELD_TITLE, question.title),
        (FIELD_STEM, question.stem),
        (FIELD_ANSWER, question.reference_answer),
        (FIELD_EXPLANATION, question.explanation),
    ]
    for index, choice in enumerate(question.choices[:MAX_CHOICES]):
        fields += [(option_field(index), choice.text), (option_field(index), choice.feedback)]
    fields += [(FIELD_ANSWER, answer) for answers in question.blanks for answer in answers]
    fields += [(FIELD_CATEGORY, name) for name in question.category_path]
    fields += [(FIELD_TAGS, tag) for tag in question.tags]
    problems: list[ImportProblem] = []
    for field_name, value in fields:
        message = text_problem(value)
        if message is not None and not any(p.field == field_name for p in problems):
            problems.append(ImportProblem(question.source, field_name, message, unit))
    return problems


def _check_category(question: ParsedQuestion, unit: Unit) -> list[ImportProblem]:
    problems = []
    if len(question.category_path) > MAX_CATEGORY_DEPTH:
        return [
            ImportProblem(
                question.source,
                FIELD_CATEGORY,
                _("The category path has more than %(max)d levels.") % {"max": MAX_CATEGORY_DEPTH},
                unit,
            )
        ]
    for name in question.category_path:
        if not name:
            problems.append(
                ImportProblem(
                    question.source,
                    FIELD_CATEGORY,
                    _(
                        "The category path has an empty level: "
                        "write it like 党史/新民主主义革命时期."
                    ),
                    unit,
                )
            )
            break
        if len(name) > CATEGORY_NAME_MAX_LENGTH:
            problems.append(
                ImportProblem(
                    question.source,
                    FIELD_CATEGORY,
                    _("The category name “%(name)s…” is longer than %(max)d characters.")
                    % {"name": name[:20], "max": CATEGORY_NAME_MAX_LENGTH},
                    unit,
                )
            )
    return problems


def _check_choices(question: ParsedQuestion, unit: Unit) -> list[ImportProblem]:
    row = question.source
    problems: list[ImportProblem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(ImportProblem(row, field_name, message, unit))

    choices = question.choices
    if len(choices) < MIN_CHOICES:
        add(
            FIELD_OPTIONS,
            _("A choice question needs at least %(min)d options.") % {"min": MIN_CHOICES},
        )
        return problems
    if len(choices) > MAX_CHOICES:
        add(
            FIELD_OPTIONS,
            _("A choice question may have at most %(max)d options (A–F).") % {"max": MAX_CHOICES},
        )
        return problems
    seen: dict[str, int] = {}
    for index, choice in enumerate(choices):
        if not choice.text.strip():
            add(option_field(index), _("The option is empty."))
            continue
        if len(choice.text) > MAX_TEXT_LENGTH:
            add(
                option_field(index),
                too_long(MAX_TEXT_LENGTH),
            )
            continue
        if len(choice.feedback) > MAX_TEXT_LENGTH:
            add(option_field(index), too_long(MAX_TEXT_LENGTH))
        key = normalise_answer(choice.text)
        if key in seen:
            add(
                option_field(index),
                _("The option repeats option %(letter)s.") % {"letter": OPTION_LETTERS[seen[key]]},
            )
        else:
            seen[key] = index
        if not Decimal(-1) <= choice.weight <= Decimal(1):
            add(
                option_field(index),
                _("An option's weight must be between -100%% and 100%%, not %(weight)s%%.")
                % {"weight": format_percent(choice.weight)},
            )
    correct = [choice for choice in choices if choice.is_correct]
    if question.type == QuestionType.SINGLE:
        if len(correct) != 1:
            add(
                FIELD_ANSWER,
                _("A single-choice question needs exactly one correct option, not %(count)d.")
                % {"count": len(correct)},
            )
        elif correct[0].weight != 1:
            add(
                FIELD_ANSWER,
                _("The correct option of a single-choice question must earn the full mark."),
            )
        return problems
    if not correct:
        add(FIELD_ANSWER, _("A multiple-choice question needs at least one correct option."))
        return problems
    if any(choice.is_correct != (choice.weight > 0) for choice in choices):
        add(
            FIELD_ANSWER,
            _(
                "In a multiple-choice question the correct options are those "
                "with a positive weight."
            ),
        )
    total = sum((choice.weight for choice in choices if choice.weight > 0), Decimal(0))
    if abs(total - 1) > WEIGHT_TOLERANCE:
        add(
            FIELD_ANSWER,
            _("The weights of the correct options add up to %(total)s%%, not 100%%.")
            % {"total": format_percent(total)},
        )
    return problems


def _check_blanks(question: ParsedQuestion, unit: Unit) -> list[ImportProblem]:
    row = question.source
    problems: list[ImportProblem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(ImportProblem(row, field_name, message, unit))

    if not question.blanks:
        add(FIELD_ANSWER, _("A fill-in-the-blank question needs the answer of each blank."))
        return problems
    if len(question.blanks) > MAX_BLANKS:
        add(FIELD_ANSWER, _("At most %(max)d blanks per question.") % {"max": MAX_BLANKS})
    for number, answers in enumerate(question.blanks[: MAX_BLANKS + 1], start=1):
        if not any(answer.strip() for answer in answers):
            add(FIELD_ANSWER, _("Blank %(number)d has no answer.") % {"number": number})
        if len(answers) > MAX_ANSWERS_PER_BLANK:
            add(
                FIELD_ANSWER,
                _("Blank %(number)d has more than %(max)d accepted answers.")
                % {"number": number, "max": MAX_ANSWERS_PER_BLANK},
            )
            continue
        for answer in answers:
            if len(answer) > MAX_TEXT_LENGTH:
                add(
                    FIELD_ANSWER,
                    too_long(MAX_TEXT_LENGTH),
                )
    markers = count_blank_markers(question.stem)
    if markers != len(question.blanks):
        add(
            FIELD_STEM,
            _(
                "The stem marks %(markers)d blank(s) but the answer gives %(blanks)d; "
                "write each blank as ____ or （ ）."
            )
            % {"markers": markers, "blanks": len(question.blanks)},
        )
    return problems


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
