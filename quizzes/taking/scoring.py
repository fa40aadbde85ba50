"""Scoring a member's answer against a frozen question, and adding up an attempt's marks.

Pure functions over plain JSON: the question as ``quizzes.bank.selectors.question_snapshot``
froze it and the member's saved response. No database access, so the attempt services,
practice mode and the benchmarks all score the same way.

Response formats (JSON as saved by the attempt page):

- single choice: ``{"choices": [choice_id]}``; multiple choice: ``{"choices": [ids...]}``
- true/false: ``{"value": true}`` or ``{"value": false}``
- fill-in-the-blank: ``{"blanks": ["text", ...]}``, one string per blank, in order
- short answer: ``{"text": "..."}``
- no answer: ``None`` or ``{}`` (or a list of nothing / only empty text)

A response of the wrong shape never raises: it scores as a wrong answer.
``response_problem`` says what is wrong with it, so the save service can refuse it.

Fractions are exact (``fractions.Fraction``); rounding happens only for display
(``quizzes.taking.grades.round_for_display``: 2 decimal places, half up), where a member's
grade over several attempts is made too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from quizzes.bank.normalise import answer_matches

ZERO = Fraction(0)
ONE = Fraction(1)
HALF = Fraction(1, 2)

# Weights are stored with 7 decimal places, so three options of 1/3 add up to 0.9999999.
# A sum this close to 0 or 1 is taken as exactly 0 or 1 (Moodle uses the same kind of
# tolerance when it decides between "right" and "partially right"); even ten rounded
# weights are off by at most 5e-7.
WEIGHT_TOLERANCE = Fraction(1, 1_000_000)
_NEAR_ONE = ONE - WEIGHT_TOLERANCE

# Long enough for any honest answer, short enough that a script cannot fill the database.
MAX_TEXT_LENGTH = 10_000
MAX_BLANK_LENGTH = 500

# The question types, as ``quizzes.models.bank.Question.Type`` stores them. Repeated as
# plain strings so this module does not import the models.
SINGLE = "single"
MULTIPLE = "multiple"
TRUE_FALSE = "true_false"
FILL_BLANK = "fill_blank"
SHORT_ANSWER = "short_answer"


class MultipleRule(models.TextChoices):
    """How a choice question earns marks (a quiz setting)."""

    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
    PARTIAL = "partial", _("Half marks for a correct subset")
    WEIGHTS = "weights", _("Option weights (Moodle)")


class GradingMethod(models.TextChoices):
    """Which of a member's attempts makes their grade for the quiz."""

    HIGHEST = "highest", _("Highest grade")
    LAST = "last", _("Last attempt")
    FIRST = "first", _("First attempt")
    AVERAGE = "average", _("Average grade")


class ResponseState(models.TextChoices):
    """The verdict on one answer; the values are those of ``AttemptQuestion.State``."""

    UNANSWERED = "unanswered", _("Not answered")
    CORRECT = "correct", _("Correct")
    PARTIAL = "partial", _("Partially correct")
    WRONG = "wrong", _("Wrong")
    NEEDS_GRADING = "needs_grading", _("Waiting for grading")


@dataclass(frozen=True)
class ScoreResult:
    """The share of the question's mark an answer earned, and the verdict."""

    fraction: Fraction
    state: ResponseState

    @property
    def needs_grading(self) -> bool:
        return self.state is _NEEDS_GRADING_STATE

    def mark(self, max_mark: Decimal | Fraction | int = 1) -> Fraction:
        """The marks earned on a question worth ``max_mark``, exact."""
        return self.fraction * exact(max_mark)


UNANSWERED = ScoreResult(ZERO, ResponseState.UNANSWERED)
MALFORMED = ScoreResult(ZERO, ResponseState.WRONG)
NEEDS_GRADING = ScoreResult(ZERO, ResponseState.NEEDS_GRADING)
RIGHT = ScoreResult(ONE, ResponseState.CORRECT)
WRONG = ScoreResult(ZERO, ResponseState.WRONG)
HALF_RIGHT = ScoreResult(HALF, ResponseState.PARTIAL)

# Plain strings for the hot path: an enum member's attribute lookup and ``.values``
# (which builds a new list on every access) cost more than the scoring itself.
_NEEDS_GRADING_STATE = ResponseState.NEEDS_GRADING
_RULES = frozenset(MultipleRule.values)
_ALL_OR_NOTHING = MultipleRule.ALL_OR_NOTHING.value
_PARTIAL = MultipleRule.PARTIAL.value
_WEIGHTS = MultipleRule.WEIGHTS.value
_QUESTION_TYPES = frozenset((SINGLE, MULTIPLE, TRUE_FALSE, FILL_BLANK, SHORT_ANSWER))


# --- Checking the shape of a response ------------------------------------------------------


def response_problem(snapshot: Mapping[str, Any], response: Any) -> Promise | None:
    """Why ``response`` is not an answer to the question, or None when it is one.

    No answer at all (``None``, ``{}``, no option ticked, only empty text) is a problem
    too: the save service stores "no answer" as ``None`` and never asks.
    """
    if response is None or response == {}:
        return _("No answer was given.")
    if not isinstance(response, dict):
        return _("The answer is not in a form this question accepts.")
    question_type = snapshot.get("type")
    if question_type in (SINGLE, MULTIPLE):
        return _choice_problem(snapshot, response, single=question_type == SINGLE)
    if question_type == TRUE_FALSE:
        if set(response) != {"value"} or not isinstance(response["value"], bool):
            return _("The answer is not in a form this question accepts.")
        return None
    if question_type == FILL_BLANK:
        return _blanks_problem(snapshot, response)
    if question_type == SHORT_ANSWER:
        return _text_problem(response)
    return _("This question cannot be answered.")


def response_is_valid(snapshot: Mapping[str, Any], response: Any) -> bool:
    """Whether ``response`` is a well-formed, non-empty answer to the question."""
    return response_problem(snapshot, response) is None


def _choice_problem(
    snapshot: Mapping[str, Any], response: dict[str, Any], *, single: bool
) -> Promise | None:
    ids = response.get("choices")
    if set(response) != {"choices"} or not isinstance(ids, list):
        return _("The answer is not in a form this question accepts.")
    if not ids:
        return _("No answer was given.")
    # bool is an int in Python; true/false is never an option id.
    if any(not isinstance(value, int) or isinstance(value, bool) for value in ids):
        return _("The answer is not in a form this question accepts.")
    if len(set(ids)) != len(ids):
        return _("The same option was chosen twice.")
    if single and len(ids) != 1:
        return _("Choose exactly one option.")
    known = {choice["id"] for choice in snapshot.get("choices", ())}
    if not set(ids) <= known:
        return _("The answer names an option this question does not have.")
    return None


def _blanks_problem(snapshot: Mapping[str, Any], response: dict[str, Any]) -> Promise | None:
    given = response.get("blanks")
    if set(response) != {"blanks"} or not isinstance(given, list):
        return _("The answer is not in a form this question accepts.")
    if any(not isinstance(text, str) for text in given):
        return _("The answer is not in a form this question accepts.")
    if len(given) != len(snapshot.get("blanks", ())):
        return _("The answer does not fill in every blank of this question.")
    if any(len(text) > MAX_BLANK_LENGTH for text in given):
        return _("An answer to a blank is too long.")
    if all(not text.strip() for text in given):
        return _("No answer was given.")
    return None


def _text_problem(response: dict[str, Any]) -> Promise | None:
    text = response.get("text")
    if set(response) != {"text"} or not isinstance(text, str):
        return _("The answer is not in a form this question accepts.")
    if len(text) > MAX_TEXT_LENGTH:
        return _("The answer is too long.")
    if not text.strip():
        return _("No answer was given.")
    return None


# --- Scoring one response ----------------------------------------------------------------------


def score_response(
    snapshot: Mapping[str, Any], response: Any, rule: str = MultipleRule.ALL_OR_NOTHING
) -> ScoreResult:
    """Score ``response`` to the frozen question ``snapshot`` under the choice ``rule``.

    Never raises on the member's response: no answer is UNANSWERED, a malformed one is
    WRONG with nothing earned. Raises ValueError for an unknown rule or question type,
    which are programming errors, not member input.
    """
    if rule not in _RULES:
        raise ValueError(f"unknown multiple-choice rule {rule!r}")
    question_type = snapshot.get("type")
    if question_type not in _QUESTION_TYPES:
        raise ValueError(f"unknown question type {question_type!r}")
    if _is_empty(response):
        return UNANSWERED
    if not response_is_valid(snapshot, response):
        return MALFORMED
    if question_type == SINGLE:
        return _single_result(snapshot, response["choices"][0], rule)
    if question_type == MULTIPLE:
        return _multiple_result(snapshot, set(response["choices"]), rule)
    if question_type == TRUE_FALSE:
        return RIGHT if response["value"] == snapshot.get("true_false_answer") else WRONG
    if question_type == FILL_BLANK:
        return _result(_blanks_fraction(snapshot, response["blanks"], rule))
    return NEEDS_GRADING


def _is_empty(response: Any) -> bool:
    """No answer: nothing saved, or a known shape with nothing in it."""
    if response is None or response == {}:
        return True
    if not isinstance(response, dict) or len(response) != 1:
        return False
    (key, value), *_rest = response.items()
    if key == "choices":
        return value == []
    if key == "blanks":
        return isinstance(value, list) and all(
            isinstance(text, str) and not text.strip() for text in value
        )
    if key == "text":
        return isinstance(value, str) and not value.strip()
    return False


def _result(fraction: Fraction) -> ScoreResult:
    if fraction.numerator == fraction.denominator:
        return RIGHT
    if not fraction.numerator:
        return WRONG
    return ScoreResult(fraction, ResponseState.PARTIAL)


def _single_result(snapshot: Mapping[str, Any], chosen: int, rule: str) -> ScoreResult:
    if rule == _WEIGHTS:
        return _result(_clamp(_weights(snapshot)[chosen]))
    return RIGHT if chosen in _correct_ids(snapshot) else WRONG


def _multiple_result(snapshot: Mapping[str, Any], chosen: set[int], rule: str) -> ScoreResult:
    if rule == _WEIGHTS:
        weights = _weights(snapshot)
        return _result(_clamp(sum((weights[choice_id] for choice_id in chosen), ZERO)))
    correct = _correct_ids(snapshot)
    if chosen == correct:
        return RIGHT
    # 少选得一半: some of the right options and none of the wrong ones.
    if rule == _PARTIAL and chosen < correct:
        return HALF_RIGHT
    return WRONG


def _blanks_fraction(snapshot: Mapping[str, Any], given: Sequence[str], rule: str) -> Fraction:
    accepted = snapshot["blanks"]
    right = sum(
        1 for text, answers in zip(given, accepted, strict=True) if answer_matches(text, answers)
    )
    if rule == _ALL_OR_NOTHING:
        return ONE if right == len(accepted) else ZERO
    # Under the partial and weights rules every blank is an equal share of the mark, as
    # Moodle's multi-answer (cloze) questions do.
    return Fraction(right, len(accepted))


def _correct_ids(snapshot: Mapping[str, Any]) -> set[int]:
    return {choice["id"] for choice in snapshot.get("choices", ()) if choice.get("is_correct")}


def _weights(snapshot: Mapping[str, Any]) -> dict[int, Fraction]:
    """Each option's weight as an exact fraction, by option id."""
    choices = snapshot.get("choices", ())
    table = _weight_table(
        tuple(_text(choice.get("weight")) for choice in choices),
        tuple(bool(choice.get("is_correct")) for choice in choices),
    )
    return {choice["id"]: weight for choice, weight in zip(choices, table, strict=True)}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


# A quiz has few distinct option lists of weights ("1", "0.5000000", "-0.3333333"…);
# parsing each once makes the weights rule about as cheap as the others.
@functools.lru_cache(maxsize=4096)
def _weight_table(weights: tuple[str, ...], correct: tuple[bool, ...]) -> tuple[Fraction, ...]:
    """The weights of a question's options, parsed.

    A question made by hand may leave every weight at its default of 0; scoring it by
    weights would then give nothing for the right answer. Such a question falls back to
    the weights its correct options imply: the right options share 1 (a single-choice
    right option is worth 1) and the wrong ones 0.
    """
    parsed = tuple(_parse_weight(text) for text in weights)
    if any(weight > 0 for weight in parsed):
        return parsed
    right = sum(correct)
    return tuple(Fraction(1, right) if flag else ZERO for flag in correct)


def _parse_weight(text: str) -> Fraction:
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError, TypeError):
        # A snapshot is written by our own code; an unreadable weight earns nothing
        # rather than failing the whole attempt.
        return ZERO


def _clamp(value: Fraction) -> Fraction:
    # Integer comparisons: Fraction's own go through the numbers ABCs and are slow.
    numerator, denominator = value.numerator, value.denominator
    if numerator * _NEAR_ONE.denominator >= _NEAR_ONE.numerator * denominator:
        return ONE
    if numerator * WEIGHT_TOLERANCE.denominator <= WEIGHT_TOLERANCE.numerator * denominator:
        return ZERO
    return value


# --- Totals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptTotal:
    """The marks of a whole attempt, exact."""

    score: Fraction
    max_score: Fraction
    needs_grading: bool

    @property
    def percent(self) -> Fraction | None:
        """The score as a percentage of the maximum; None for an attempt worth nothing."""
        if not self.max_score:
            return None
        return self.score * 100 / self.max_score


def attempt_total(
    results: Sequence[ScoreResult],
    max_marks: Sequence[Decimal | Fraction | int] | None = None,
    *,
    graded_marks: Mapping[int, Decimal | Fraction | int] | None = None,
) -> AttemptTotal:
    """Add up an attempt's marks: question ``i`` is worth ``max_marks[i]`` (default 1 each).

    ``graded_marks`` maps the index of a question a teacher has marked by hand (short
    answers) to the marks given; a question that still needs grading adds nothing and
    makes ``needs_grading`` true.
    """
    if max_marks is None:
        max_marks = [1] * len(results)
    if len(max_marks) != len(results):
        raise ValueError("one max mark per result is needed")
    graded = graded_marks or {}
    # Full marks and nothing are by far the most common results: they are added as the
    # max marks themselves (exact Decimal sums), and only partial credit goes through
    # Fraction arithmetic, which is slow.
    earned_in_full = []
    partial = ZERO
    waiting = False
    for index, (result, max_mark) in enumerate(zip(results, max_marks, strict=True)):
        if index in graded:
            earned_in_full.append(graded[index])
        elif result is RIGHT or result.fraction == ONE:
            earned_in_full.append(max_mark)
        elif result.state is _NEEDS_GRADING_STATE:
            waiting = True
        elif result.fraction:
            partial += result.mark(max_mark)
    return AttemptTotal(
        score=_exact_sum(earned_in_full) + partial,
        max_score=_exact_sum(max_marks),
        needs_grading=waiting,
    )


def _exact_sum(values: Sequence[Decimal | Fraction | int]) -> Fraction:
    """The exact sum of Decimals, ints and Fractions (never floats)."""
    fractions = ZERO
    decimals = Decimal(0)
    for value in values:
        if isinstance(value, Fraction):
            fractions += value
        elif isinstance(value, Decimal | int) and not isinstance(value, bool):
            decimals += value
        else:
            raise TypeError("marks and scores must be Decimal, Fraction or int, not float")
    # Decimal addition is exact while the sum fits in the context's 28 digits, far more
    # than any attempt's marks need.
    return Fraction(decimals) + fractions


def exact(value: Decimal | Fraction | int) -> Fraction:
    """A mark or score as an exact Fraction; a float is refused."""
    if isinstance(value, float):
        # A float is never exact; refuse it rather than carry its binary error.
        raise TypeError("marks and scores must be Decimal, Fraction or int, not float")
    return Fraction(value)
