"""One question per row: the columns shared by the .xlsx and CSV formats, both ways.

Columns (the header row names them; order does not matter, English titles work too):
题型, 题干, 选项A–选项F, 答案, 解析, 难度, 分类, 标签. The 答案 cell depends on the type:

- 单选 / 多选: the letters of the correct options (``B``, ``AC``, ``A,C``), or Moodle-style
  weights ``A:50%,C:50%,B:-100%`` (options not listed are worth 0);
- 判断: 对 or 错 (also 正确/错误, √/×, T/F);
- 填空: the answers of the blanks in order, separated by ``|``; several accepted answers
  for one blank separated by ``/`` (``1921|嘉兴南湖/南湖``); ``\\|``, ``\\/`` and ``\\\\``
  stand for a literal ``|``, ``/`` and ``\\``;
- 简答: the reference answer for the graders (may be empty).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from learning.common.sheets import (
    SheetError,
    SheetLimits,
    column_name,
    header_positions,
)
from learning.common.text import excerpt
from quizzes.bank.formats.base import (
    CHOICE_TYPES,
    FIELD_ANSWER,
    FIELD_CATEGORY,
    FIELD_DIFFICULTY,
    FIELD_EXPLANATION,
    FIELD_STEM,
    FIELD_TAGS,
    FIELD_TYPE,
    MAX_CHOICES,
    MAX_QUESTIONS,
    OPTION_LETTERS,
    ImportProblem,
    ParsedChoice,
    ParsedQuestion,
    ParseResult,
    QuestionType,
    choices_with_default_weights,
    format_percent,
    has_default_weights,
    join_category_path,
    option_field,
    parse_difficulty,
    parse_percent,
    split_category_path,
    split_tags,
    too_long,
    unknown_type_message,
)
from quizzes.bank.formats.reading import question_keep, reading_end, stop_when_full
from quizzes.bank.normalise import canonical_blank_stem

COLUMN_TYPE = FIELD_TYPE
COLUMN_STEM = FIELD_STEM
OPTION_COLUMNS = [option_field(index) for index in range(MAX_CHOICES)]
COLUMN_ANSWER = FIELD_ANSWER
COLUMN_EXPLANATION = FIELD_EXPLANATION
COLUMN_DIFFICULTY = FIELD_DIFFICULTY
COLUMN_CATEGORY = FIELD_CATEGORY
COLUMN_TAGS = FIELD_TAGS
COLUMNS = [
    COLUMN_TYPE,
    COLUMN_STEM,
    *OPTION_COLUMNS,
    COLUMN_ANSWER,
    COLUMN_EXPLANATION,
    COLUMN_DIFFICULTY,
    COLUMN_CATEGORY,
    COLUMN_TAGS,
]
REQUIRED_COLUMNS = [COLUMN_TYPE, COLUMN_STEM, COLUMN_ANSWER]
# The bounds of a question sheet, .xlsx or CSV: blank rows between the questions are
# fine, up to twice as many rows as questions.
TABLE_LIMITS = SheetLimits(max_rows=2 * MAX_QUESTIONS, max_total_chars=20_000_000)


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers typed into Excel lose their ``.0``; TRUE stays TRUE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_HEADER_ALIASES = {
    COLUMN_TYPE: ["题型", "题目类型", "试题类型", "类型", "type", "question type"],
    COLUMN_STEM: ["题干", "题目", "试题", "题目内容", "stem", "question"],
    COLUMN_ANSWER: ["答案", "正确答案", "标准答案", "参考答案", "answer"],
    COLUMN_EXPLANATION: ["解析", "答案解析", "试题解析", "explanation"],
    COLUMN_DIFFICULTY: ["难度", "难易度", "难度等级", "difficulty"],
    COLUMN_CATEGORY: ["分类", "类别", "题库分类", "category"],
    COLUMN_TAGS: ["标签", "知识点", "tags", "tag"],
}
for _index, _letter in enumerate(OPTION_LETTERS):
    _HEADER_ALIASES[OPTION_COLUMNS[_index]] = [f"选项{_letter}", _letter, f"option {_letter}"]


def _header_key(title: Any) -> str:
    """A header cell reduced for matching: 选项 A, ＯＰＴＩＯＮ_A and option-a are one."""
    text = unicodedata.normalize("NFKC", cell_text(title)).casefold()
    return re.sub(r"[\s_\-]", "", text)


HEADER_ALIASES: dict[str, str] = {
    _header_key(alias): column for column, aliases in _HEADER_ALIASES.items() for alias in aliases
}

# What the 题型 cell says, after NFKC, case folding and dropping a final 题.
TYPE_TOKENS: dict[str, QuestionType] = {}
for _question_type, _tokens in {
    QuestionType.SINGLE: ["单选", "单项选择", "单选择", "single", "single choice"],
    QuestionType.MULTIPLE: [
        "多选",
        "多项选择",
        "不定项选择",
        "不定项",
        "multiple",
        "multiple choice",
    ],
    QuestionType.TRUE_FALSE: ["判断", "是非", "true_false", "true/false", "truefalse", "tf"],
    QuestionType.FILL_BLANK: ["填空", "fill_blank", "fill in the blank", "fill", "blank"],
    QuestionType.SHORT_ANSWER: ["简答", "问答", "论述", "short_answer", "short answer", "essay"],
}.items():
    for _token in _tokens:
        TYPE_TOKENS[_token] = _question_type

# How each type is written when exported.
TYPE_NAMES = {
    QuestionType.SINGLE: "单选",
    QuestionType.MULTIPLE: "多选",
    QuestionType.TRUE_FALSE: "判断",
    QuestionType.FILL_BLANK: "填空",
    QuestionType.SHORT_ANSWER: "简答",
}

TRUE_WORDS = frozenset({"对", "正确", "是", "真", "√", "✓", "✔", "t", "true", "y", "yes", "1"})
FALSE_WORDS = frozenset(
    {"错", "错误", "否", "假", "×", "✗", "✘", "x", "f", "false", "n", "no", "0"}
)
TRUE_NAME = "对"
FALSE_NAME = "错"

# An answer cell of a choice question names at most six options: anything longer is
# not an answer, and is refused before it is taken apart.
MAX_ANSWER_CELL_LENGTH = 200
BLANK_SEPARATORS = "|｜"
ALTERNATIVE_SEPARATOR = "/"
_ESCAPABLE = set(BLANK_SEPARATORS + ALTERNATIVE_SEPARATOR + "\\")


def parse_table_rows(rows: Iterable[Sequence[Any]], *, format_name: str) -> ParseResult:
    """Read a header row and one question per row. Pure: no database access.

    Rows are numbered as a spreadsheet shows them (the header is row 1); empty rows
    are skipped. A ``SheetError`` from ``rows`` (a bound of the file crossed) becomes
    the last problem, named by its row and column, and reading stops there.
    """
    result = ParseResult(format=format_name, unit="row")
    iterator = iter(rows)
    try:
        header = next(iterator, None)
    except SheetError as error:
        result.problem(error.row, column_name(error.column, {}), error.message)
        return result
    if header is None:
        result.problem(0, "", _("The file is empty."))
        return result
    positions = header_positions(header, HEADER_ALIASES, _header_key)
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        result.problem(
            1,
            "、".join(missing),
            _("The header row is missing the column(s): %(columns)s.")
            % {"columns": "、".join(missing)},
        )
        return result

    try:
        _parse_body(iterator, positions, result)
    except SheetError as error:
        result.problem(error.row, column_name(error.column, positions), error.message)
    return reading_end(result)


def _parse_body(
    iterator: Iterator[Sequence[Any]], positions: dict[str, int], result: ParseResult
) -> None:
    for row_number, values in enumerate(iterator, start=2):
        cells = {
            column: cell_text(values[index]) if index < len(values) else ""
            for column, index in positions.items()
        }
        if not any(cells.values()):
            continue
        if stop_when_full(result, row_number) or result.stop_when_too_many_problems(row_number):
            return
        question_keep(result, *_parse_row(row_number, cells))


def _parse_row(
    row: int, cells: dict[str, str]
) -> tuple[ParsedQuestion | None, list[ImportProblem]]:
    problems: list[ImportProblem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(ImportProblem(row, field_name, message, "row"))

    type_text = cells.get(COLUMN_TYPE, "")
    question_type = parse_type(type_text)
    if question_type is None:
        message = unknown_type_message(type_text)
        add(COLUMN_TYPE, message)
        return None, problems

    difficulty = parse_difficulty(cells.get(COLUMN_DIFFICULTY, ""))
    if difficulty is None:
        add(
            COLUMN_DIFFICULTY,
            _("“%(value)s” is not a difficulty: use a whole number from 1 to 5.")
            % {"value": excerpt(cells[COLUMN_DIFFICULTY])},
        )
        difficulty = 3
    question = ParsedQuestion(
        type=question_type,
        stem=cells.get(COLUMN_STEM, ""),
        explanation=cells.get(COLUMN_EXPLANATION, ""),
        difficulty=difficulty,
        category_path=split_category_path(cells.get(COLUMN_CATEGORY, "")),
        tags=split_tags(cells.get(COLUMN_TAGS, "")),
        source=row,
    )
    options = [cells.get(column, "") for column in OPTION_COLUMNS]
    while options and not options[-1]:
        options.pop()
    answer = cells.get(COLUMN_ANSWER, "")

    if question_type in CHOICE_TYPES:
        for index, text in enumerate(options):
            if not text:
                add(
                    option_field(index),
                    _("The option is empty: fill the options from 选项A on, without gaps."),
                )
        choices, message = parse_choice_answer(answer, question_type, options)
        if message:
            add(COLUMN_ANSWER, message)
        question.choices = choices or [
            ParsedChoice(text=text, is_correct=False, weight=Decimal(0)) for text in options
        ]
        return question, problems

    if question_type == QuestionType.TRUE_FALSE:
        value = parse_true_false(answer, options)
        if value is None:
            add(
                COLUMN_ANSWER,
                _("“%(answer)s” is not a true-or-false answer: write 对 or 错.")
                % {"answer": excerpt(answer)},
            )
        question.true_false_answer = value
        if options and not _options_are_true_false(options):
            add(option_field(0), _("A true-or-false question has no options besides 对 and 错."))
        return question, problems

    if options:
        first = next(index for index, text in enumerate(options) if text)
        add(option_field(first), _("Only single- and multiple-choice questions have options."))
    if question_type == QuestionType.FILL_BLANK:
        question.blanks = split_blank_answers(answer)
        question.stem = canonical_blank_stem(question.stem, len(question.blanks))
    else:
        question.reference_answer = answer
    return question, problems


def parse_type(text: str) -> QuestionType | None:
    token = unicodedata.normalize("NFKC", text).strip().casefold()
    token = re.sub(r"\s+", " ", token)
    if token.endswith("题") and len(token) > 1:
        token = token[:-1]
    return TYPE_TOKENS.get(token)


def parse_choice_answer(
    text: str, question_type: str, options: list[str]
) -> tuple[list[ParsedChoice] | None, str | None]:
    """The options with correctness and weights from an 答案 cell, or an error message."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None, _(
            "The answer is empty: give the letter(s) of the correct option(s), e.g. B or AC."
        )
    if len(text) > MAX_ANSWER_CELL_LENGTH:
        return None, too_long(MAX_ANSWER_CELL_LENGTH)
    if re.search(r"[:=%]", text):
        # Spaces around : = % go; split and strip rather than a backtracking \s*…\s*.
        pieces = re.split(r"([:=%])", text)
        text = "".join(piece if index % 2 else piece.strip() for index, piece in enumerate(pieces))
        return _parse_weighted_answer(text, question_type, options)
    letters = re.sub(r"[\s,;、]", "", text).upper()
    if not re.fullmatch(r"[A-Z]+", letters):
        return None, _(
            "“%(answer)s” is not an answer for a choice question: give letters such as B or AC."
        ) % {"answer": excerpt(text)}
    indexes: set[int] = set()
    for letter in letters:
        index = ord(letter) - ord("A")
        problem = _named_option_problem(letter, index, options, indexes)
        if problem is not None:
            return None, problem
        indexes.add(index)
    return choices_with_default_weights(question_type, options, indexes), None


def _named_option_problem(
    letter: str, index: int, options: list[str], named: set[int]
) -> str | None:
    """Why the answer cannot name option ``letter`` (at ``index``): the question has no
    such option, or the answer named it already (``named``); None when it can."""
    if index >= len(options) or not options[index]:
        return _("The answer names option %(letter)s, which the question does not have.") % {
            "letter": letter
        }
    if index in named:
        return _("The answer names option %(letter)s twice.") % {"letter": letter}
    return None


def _parse_weighted_answer(
    text: str, question_type: str, options: list[str]
) -> tuple[list[ParsedChoice] | None, str | None]:
    weights = [Decimal(0)] * len(options)
    named: set[int] = set()
    for item in re.split(r"[\s,;、]+", text):
        if not item:
            continue
        match = re.fullmatch(r"([A-Za-z])[:=]([^:=]+)", item)
        weight = parse_percent(match.group(2)) if match else None
        if match is None or weight is None:
            return None, _(
                "“%(item)s” is not a weighted answer: write each option as letter:percent, "
                "e.g. A:50%%,C:50%%,B:-100%%."
            ) % {"item": excerpt(item)}
        letter = match.group(1).upper()
        index = ord(letter) - ord("A")
        problem = _named_option_problem(letter, index, options, named)
        if problem is not None:
            return None, problem
        named.add(index)
        weights[index] = weight
    choices = []
    for option, weight in zip(options, weights, strict=True):
        is_correct = weight == 1 if question_type == QuestionType.SINGLE else weight > 0
        choices.append(ParsedChoice(text=option, is_correct=is_correct, weight=weight))
    return choices, None


def parse_true_false(text: str, options: list[str] | None = None) -> bool | None:
    """对/错 and their many spellings; a letter when the options are 对 and 错."""
    token = unicodedata.normalize("NFKC", text).strip().casefold().rstrip("。.")
    if options and _options_are_true_false(options) and re.fullmatch(r"[a-b]", token):
        token = unicodedata.normalize("NFKC", options[ord(token) - ord("a")]).strip().casefold()
    if token in TRUE_WORDS:
        return True
    if token in FALSE_WORDS:
        return False
    return None


def _options_are_true_false(options: list[str]) -> bool:
    if len(options) != 2:
        return False
    words = [unicodedata.normalize("NFKC", option).strip().casefold() for option in options]
    return words[0] in TRUE_WORDS and words[1] in FALSE_WORDS


def split_blank_answers(text: str) -> list[list[str]]:
    """``1921|嘉兴南湖/南湖`` → ``[["1921"], ["嘉兴南湖", "南湖"]]`` (with ``\\`` escapes)."""
    if not text.strip():
        return []
    blanks: list[list[str]] = [[]]
    current: list[str] = []

    def end_answer() -> None:
        answer = "".join(current).strip()
        current.clear()
        if answer:
            blanks[-1].append(answer)

    characters = iter(text)
    for character in characters:
        if character == "\\":
            following = next(characters, "")
            if following in _ESCAPABLE:
                current.append(following)
            else:
                current.append(character + following)
        elif character in BLANK_SEPARATORS:
            end_answer()
            blanks.append([])
        elif character == ALTERNATIVE_SEPARATOR:
            end_answer()
        else:
            current.append(character)
    end_answer()
    return blanks


def join_blank_answers(blanks: list[list[str]]) -> str:
    """The inverse of ``split_blank_answers``."""
    return "|".join(
        ALTERNATIVE_SEPARATOR.join(_escape_blank_answer(answer) for answer in answers)
        for answers in blanks
    )


def _escape_blank_answer(answer: str) -> str:
    return "".join(
        "\\" + character if character in _ESCAPABLE else character for character in answer
    )


def format_choice_answer(question: ParsedQuestion) -> str:
    """The 答案 cell of a choice question: letters, or weights when they are not the default."""
    if has_default_weights(question):
        return "".join(
            OPTION_LETTERS[index]
            for index, choice in enumerate(question.choices)
            if choice.is_correct
        )
    return ",".join(
        f"{OPTION_LETTERS[index]}:{format_percent(choice.weight)}%"
        for index, choice in enumerate(question.choices)
        if choice.weight != 0
    )


def question_row(question: ParsedQuestion) -> list[str]:
    """A question as a row of ``COLUMNS`` (what the .xlsx export writes)."""
    options = [choice.text for choice in question.choices]
    options += [""] * (len(OPTION_COLUMNS) - len(options))
    if question.type in CHOICE_TYPES:
        answer = format_choice_answer(question)
    elif question.type == QuestionType.TRUE_FALSE:
        answer = TRUE_NAME if question.true_false_answer else FALSE_NAME
    elif question.type == QuestionType.FILL_BLANK:
        answer = join_blank_answers(question.blanks)
    else:
        answer = question.reference_answer
    return [
        TYPE_NAMES[QuestionType(question.type)],
        question.stem,
        *options,
        answer,
        question.explanation,
        str(question.difficulty),
        join_category_path(question.category_path),
        ",".join(question.tags),
    ]
