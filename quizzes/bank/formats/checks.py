"""The content rules every question must meet, whatever file or form it came from.

``check_question`` lists every way a ``ParsedQuestion`` breaks them, each an
``ImportProblem`` naming the field; the importers (``quizzes.bank.formats``) and the
question form of the admin (``quizzes.bank.admin_question_form``) both call it, so a
question the admin refuses is refused by an import too. Pure: no database.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from learning.common.text import text_problem
from quizzes.bank.formats.base import (
    CHOICE_TYPES,
    FIELD_ANSWER,
    FIELD_CATEGORY,
    FIELD_DIFFICULTY,
    FIELD_EXPLANATION,
    FIELD_OPTIONS,
    FIELD_STEM,
    FIELD_TAGS,
    FIELD_TITLE,
    FIELD_TYPE,
    MAX_ANSWERS_PER_BLANK,
    MAX_BLANKS,
    MAX_CATEGORY_DEPTH,
    MAX_CHOICES,
    MAX_STEM_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
    MIN_CHOICES,
    OPTION_LETTERS,
    WEIGHT_TOLERANCE,
    ImportProblem,
    ParsedQuestion,
    QuestionType,
    Unit,
    format_percent,
    option_field,
    too_long,
    unknown_type_message,
)
from quizzes.bank.normalise import count_blank_markers, normalise_answer
from quizzes.models.bank import CATEGORY_NAME_MAX_LENGTH, MAX_DIFFICULTY, MIN_DIFFICULTY


class _Problems(list[ImportProblem]):
    """The problems found in one question, in the order the rules find them."""

    def __init__(self, question: ParsedQuestion, unit: Unit) -> None:
        super().__init__()
        self.row = question.source
        self.unit = unit

    def add(self, field_name: str, message: str) -> None:
        self.append(ImportProblem(self.row, field_name, message, self.unit))


def check_question(question: ParsedQuestion, unit: Unit = "row") -> list[ImportProblem]:
    """Every way ``question`` breaks the bank's rules, whatever format it came from."""
    problems = _Problems(question, unit)
    add = problems.add
    if question.type not in QuestionType.values:
        add(FIELD_TYPE, unknown_type_message(question.type))
        return list(problems)
    _check_text(question, problems)
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
    _check_category(question, problems)
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
        _check_choices(question, problems)
    else:
        if question.choices:
            add(
                FIELD_OPTIONS,
                _("Only single- and multiple-choice questions have options."),
            )
    if question.type == QuestionType.TRUE_FALSE and question.true_false_answer is None:
        add(FIELD_ANSWER, _("A true-or-false question needs the answer 对 or 错."))
    if question.type == QuestionType.FILL_BLANK:
        _check_blanks(question, problems)
    elif question.blanks:
        add(FIELD_ANSWER, _("Only fill-in-the-blank questions have blanks."))
    return list(problems)


def _check_text(question: ParsedQuestion, problems: _Problems) -> None:
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
    reported: set[str] = set()
    for field_name, value in fields:
        message = text_problem(value)
        if message is not None and field_name not in reported:
            reported.add(field_name)
            problems.add(field_name, message)


def _check_category(question: ParsedQuestion, problems: _Problems) -> None:
    if len(question.category_path) > MAX_CATEGORY_DEPTH:
        problems.add(
            FIELD_CATEGORY,
            _("The category path has more than %(max)d levels.") % {"max": MAX_CATEGORY_DEPTH},
        )
        return
    for name in question.category_path:
        if not name:
            problems.add(
                FIELD_CATEGORY,
                _("The category path has an empty level: write it like 党史/新民主主义革命时期."),
            )
            break
        if len(name) > CATEGORY_NAME_MAX_LENGTH:
            problems.add(
                FIELD_CATEGORY,
                _("The category name “%(name)s…” is longer than %(max)d characters.")
                % {"name": name[:20], "max": CATEGORY_NAME_MAX_LENGTH},
            )


def _check_choices(question: ParsedQuestion, problems: _Problems) -> None:
    add = problems.add

    choices = question.choices
    if len(choices) < MIN_CHOICES:
        add(
            FIELD_OPTIONS,
            _("A choice question needs at least %(min)d options.") % {"min": MIN_CHOICES},
        )
        return
    if len(choices) > MAX_CHOICES:
        add(
            FIELD_OPTIONS,
            _("A choice question may have at most %(max)d options (A–F).") % {"max": MAX_CHOICES},
        )
        return
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
        return
    if not correct:
        add(FIELD_ANSWER, _("A multiple-choice question needs at least one correct option."))
        return
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


def _check_blanks(question: ParsedQuestion, problems: _Problems) -> None:
    add = problems.add

    if not question.blanks:
        add(FIELD_ANSWER, _("A fill-in-the-blank question needs the answer of each blank."))
        return
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
