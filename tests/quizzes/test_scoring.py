"""Scoring answers against frozen questions under each rule, totals, and grading methods."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from quizzes.bank.formats.base import default_weights
from quizzes.taking.grades import grade_exact, grade_from_attempts, round_for_display, to_decimal
from quizzes.taking.scoring import (
    AttemptTotal,
    GradingMethod,
    MultipleRule,
    ResponseState,
    ScoreResult,
    attempt_total,
    response_is_valid,
    response_problem,
    score_response,
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The reasons are compared with their English msgids, whatever language is active.
    with translation.override("en"):
        yield


AON = MultipleRule.ALL_OR_NOTHING
PARTIAL = MultipleRule.PARTIAL
WEIGHTS = MultipleRule.WEIGHTS
ALL_RULES = [AON, PARTIAL, WEIGHTS]

C = ResponseState.CORRECT
P = ResponseState.PARTIAL
W = ResponseState.WRONG
U = ResponseState.UNANSWERED
G = ResponseState.NEEDS_GRADING


def snapshot(question_type: str, **content: Any) -> dict[str, Any]:
    """A snapshot shaped as ``question_snapshot`` returns it."""
    base: dict[str, Any] = {
        "id": 7,
        "version": 1,
        "type": question_type,
        "stem": "题干",
        "image_id": None,
        "choices": [],
        "blanks": [],
        "true_false_answer": None,
        "reference_answer": "",
        "explanation": "",
    }
    base.update(content)
    return base


def choice(choice_id: int, correct: bool, weight: str) -> dict[str, Any]:
    return {
        "id": choice_id,
        "text": f"选项{choice_id}",
        "is_correct": correct,
        "weight": weight,
        "feedback": "",
    }


# Single choice: 11 right; 12 is a GIFT-style half-right option (%50%); 13 wrong.
SINGLE = snapshot(
    "single", choices=[choice(11, True, "1"), choice(12, False, "0.5"), choice(13, False, "0")]
)
# Multiple choice: 21, 22, 23 right (1/3 each, stored to 7 places); 24 wrong (-1).
MULTIPLE = snapshot(
    "multiple",
    choices=[
        choice(21, True, "0.3333333"),
        choice(22, True, "0.3333333"),
        choice(23, True, "0.3333333"),
        choice(24, False, "-1.0000000"),
    ],
)
TRUE_FALSE = snapshot("true_false", true_false_answer=False)
FILL = snapshot(
    "fill_blank",
    stem="中国共产党成立于____年，诞生地是____。",
    blanks=[["1921"], ["上海", "上海市"]],
)
SHORT = snapshot("short_answer", reference_answer="为人民服务")

MALFORMED_CHOICES = [
    ["not a dict"],
    {"choices": 11},
    {"choices": ["11"]},
    {"choices": [True]},
    {"choices": [99]},
    {"choices": [11], "extra": 1},
    {"value": True},
]

# (question, response, {rule: (fraction, state)}); one entry per rule even where the rule
# changes nothing, so a rule that leaks into another type shows up here.
CASES: list[tuple[str, dict[str, Any], Any, dict[str, tuple[Fraction, ResponseState]]]] = []


def case(
    name: str, question: dict[str, Any], response: Any, aon: tuple, partial: tuple, weights: tuple
) -> None:
    CASES.append((name, question, response, {AON: aon, PARTIAL: partial, WEIGHTS: weights}))


ZERO_W = (Fraction(0), W)
ZERO_U = (Fraction(0), U)
FULL = (Fraction(1), C)
HALF = (Fraction(1, 2), P)

case("single right", SINGLE, {"choices": [11]}, FULL, FULL, FULL)
case("single half-weight option", SINGLE, {"choices": [12]}, ZERO_W, ZERO_W, HALF)
case("single wrong", SINGLE, {"choices": [13]}, ZERO_W, ZERO_W, ZERO_W)
case("single empty", SINGLE, None, ZERO_U, ZERO_U, ZERO_U)
case("single empty dict", SINGLE, {}, ZERO_U, ZERO_U, ZERO_U)
case("single nothing ticked", SINGLE, {"choices": []}, ZERO_U, ZERO_U, ZERO_U)
case("single two options", SINGLE, {"choices": [11, 13]}, ZERO_W, ZERO_W, ZERO_W)
case("single unknown id", SINGLE, {"choices": [99]}, ZERO_W, ZERO_W, ZERO_W)
case("single id as string", SINGLE, {"choices": ["11"]}, ZERO_W, ZERO_W, ZERO_W)

TWO_THIRDS = (Fraction(6666666, 10_000_000), P)
ONE_THIRD = (Fraction(3333333, 10_000_000), P)
case("multiple exact set", MULTIPLE, {"choices": [23, 21, 22]}, FULL, FULL, FULL)
case("multiple two of three", MULTIPLE, {"choices": [21, 22]}, ZERO_W, HALF, TWO_THIRDS)
case("multiple one of three", MULTIPLE, {"choices": [21]}, ZERO_W, HALF, ONE_THIRD)
case("multiple all plus wrong", MULTIPLE, {"choices": [21, 22, 23, 24]}, ZERO_W, ZERO_W, ZERO_W)
case("multiple one right one wrong", MULTIPLE, {"choices": [21, 24]}, ZERO_W, ZERO_W, ZERO_W)
case("multiple only wrong", MULTIPLE, {"choices": [24]}, ZERO_W, ZERO_W, ZERO_W)
case("multiple empty", MULTIPLE, None, ZERO_U, ZERO_U, ZERO_U)
case("multiple nothing ticked", MULTIPLE, {"choices": []}, ZERO_U, ZERO_U, ZERO_U)
case("multiple duplicate ids", MULTIPLE, {"choices": [21, 21, 22, 23]}, ZERO_W, ZERO_W, ZERO_W)
case("multiple unknown id", MULTIPLE, {"choices": [21, 22, 23, 99]}, ZERO_W, ZERO_W, ZERO_W)

case("true/false right", TRUE_FALSE, {"value": False}, FULL, FULL, FULL)
case("true/false wrong", TRUE_FALSE, {"value": True}, ZERO_W, ZERO_W, ZERO_W)
case("true/false empty", TRUE_FALSE, None, ZERO_U, ZERO_U, ZERO_U)
case("true/false as string", TRUE_FALSE, {"value": "false"}, ZERO_W, ZERO_W, ZERO_W)
case("true/false as 0", TRUE_FALSE, {"value": 0}, ZERO_W, ZERO_W, ZERO_W)

case("fill both right", FILL, {"blanks": ["1921", "上海市"]}, FULL, FULL, FULL)
case("fill one of two", FILL, {"blanks": ["1921", "北京"]}, ZERO_W, HALF, HALF)
case("fill one answered", FILL, {"blanks": ["1921", ""]}, ZERO_W, HALF, HALF)
case("fill both wrong", FILL, {"blanks": ["1927", "北京"]}, ZERO_W, ZERO_W, ZERO_W)
case("fill empty", FILL, None, ZERO_U, ZERO_U, ZERO_U)
case("fill only spaces", FILL, {"blanks": ["  ", "\u3000"]}, ZERO_U, ZERO_U, ZERO_U)
case("fill too few blanks", FILL, {"blanks": ["1921"]}, ZERO_W, ZERO_W, ZERO_W)
case("fill too many blanks", FILL, {"blanks": ["1921", "上海", "x"]}, ZERO_W, ZERO_W, ZERO_W)
case("fill number not text", FILL, {"blanks": [1921, "上海"]}, ZERO_W, ZERO_W, ZERO_W)

NEEDS = (Fraction(0), G)
case("short answer written", SHORT, {"text": "全心全意为人民服务"}, NEEDS, NEEDS, NEEDS)
case("short answer empty", SHORT, None, ZERO_U, ZERO_U, ZERO_U)
case("short answer only spaces", SHORT, {"text": "   "}, ZERO_U, ZERO_U, ZERO_U)
case("short answer not text", SHORT, {"text": ["为人民服务"]}, ZERO_W, ZERO_W, ZERO_W)
case("short answer wrong key", SHORT, {"answer": "为人民服务"}, ZERO_W, ZERO_W, ZERO_W)


@pytest.mark.parametrize(
    ("question", "response", "rule", "expected"),
    [
        pytest.param(question, response, rule, expected[rule], id=f"{name} / {rule}")
        for name, question, response, expected in CASES
        for rule in ALL_RULES
    ],
)
def test_score_response_table(question: dict, response: Any, rule: str, expected: tuple) -> None:
    result = score_response(question, response, rule)
    assert (result.fraction, result.state) == expected
    assert isinstance(result.fraction, Fraction)


def test_every_type_and_rule_is_in_the_table() -> None:
    # Guards the table itself: each type has a right, a wrong, an empty and a malformed row.
    states_by_type: dict[str, set[ResponseState]] = {}
    for _name, question, _response, expected in CASES:
        for fraction_state in expected.values():
            states_by_type.setdefault(question["type"], set()).add(fraction_state[1])
    assert set(states_by_type) == {"single", "multiple", "true_false", "fill_blank", "short_answer"}
    for question_type in ("single", "multiple", "true_false", "fill_blank"):
        assert {C, W, U} <= states_by_type[question_type]
    assert {P} <= states_by_type["single"] & states_by_type["multiple"] & states_by_type[
        "fill_blank"
    ]


@pytest.mark.parametrize("response", MALFORMED_CHOICES)
@pytest.mark.parametrize("rule", ALL_RULES)
def test_malformed_choice_responses_score_as_wrong(response: Any, rule: str) -> None:
    for question in (SINGLE, MULTIPLE):
        result = score_response(question, response, rule)
        assert result == ScoreResult(Fraction(0), W)


def test_needs_grading_flag() -> None:
    assert score_response(SHORT, {"text": "答"}).needs_grading
    assert not score_response(SHORT, {"text": " "}).needs_grading


def test_states_are_attempt_question_states() -> None:
    # The attempt service stores ``str(result.state)`` in AttemptQuestion.state.
    from quizzes.models import AttemptQuestion

    assert set(ResponseState.values) <= set(AttemptQuestion.State.values)


def test_rules_and_methods_match_the_quiz_settings() -> None:
    from quizzes.models import Quiz

    assert MultipleRule.values == Quiz.MultipleRule.values
    assert GradingMethod.values == Quiz.GradingMethod.values


def test_unknown_rule_or_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="rule"):
        score_response(SINGLE, {"choices": [11]}, "generous")
    with pytest.raises(ValueError, match="type"):
        score_response(snapshot("essay"), {"text": "x"})


def test_weights_of_a_single_choice_are_clamped() -> None:
    question = snapshot("single", choices=[choice(1, True, "1"), choice(2, False, "-0.5")])
    assert score_response(question, {"choices": [2]}, WEIGHTS) == ScoreResult(Fraction(0), W)


def test_question_without_weights_falls_back_to_correct_flags() -> None:
    # Options made by hand keep the default weight 0; the right set must still earn 1.
    question = snapshot(
        "multiple",
        choices=[choice(1, True, "0"), choice(2, True, "0.0000000"), choice(3, False, "0")],
    )
    assert score_response(question, {"choices": [1, 2]}, WEIGHTS).fraction == 1
    assert score_response(question, {"choices": [1]}, WEIGHTS).fraction == Fraction(1, 2)
    assert score_response(question, {"choices": [1, 3]}, WEIGHTS).fraction == Fraction(1, 2)


def test_weights_near_one_count_as_full_marks() -> None:
    # 7 stored places: 0.3333333 × 3 = 0.9999999, which is full marks, "correct".
    assert score_response(MULTIPLE, {"choices": [21, 22, 23]}, WEIGHTS).state == C


# --- Fill-in normalisation -----------------------------------------------------------------

FILL_ONE = snapshot("fill_blank", blanks=[["实事求是", "ABC"]])


@pytest.mark.parametrize(
    "given_text",
    [
        "实事求是",
        " 实事求是 ",
        "实事求是。",
        "实事 求是",
        "\u3000实事求是\u3000",
        "abc",
        "ＡＢＣ",
        "Abc.",
        "ａｂｃ。",
    ],
)
def test_fill_in_accepts_normalised_forms(given_text: str) -> None:
    assert score_response(FILL_ONE, {"blanks": [given_text]}).state == C


@pytest.mark.parametrize("given_text", ["实事求", "ab c", "abcd", "《实事求是》"])
def test_fill_in_refuses_other_text(given_text: str) -> None:
    assert score_response(FILL_ONE, {"blanks": [given_text]}).state == W


# --- Validation for the save service -----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "response"),
    [
        (SINGLE, {"choices": [11]}),
        (MULTIPLE, {"choices": [21, 24]}),
        (TRUE_FALSE, {"value": True}),
        (FILL, {"blanks": ["1921", ""]}),
        (SHORT, {"text": "答"}),
    ],
)
def test_well_formed_answers_are_valid(question: dict, response: Any) -> None:
    assert response_is_valid(question, response)
    assert response_problem(question, response) is None


@pytest.mark.parametrize(
    ("question", "response", "reason"),
    [
        (SINGLE, None, "No answer was given."),
        (SINGLE, {}, "No answer was given."),
        (SINGLE, {"choices": []}, "No answer was given."),
        (SINGLE, {"choices": [11, 12]}, "Choose exactly one option."),
        (SINGLE, [11], "The answer is not in a form this question accepts."),
        (MULTIPLE, {"choices": [21, 21]}, "The same option was chosen twice."),
        (
            MULTIPLE,
            {"choices": [21, 99]},
            "The answer names an option this question does not have.",
        ),
        (MULTIPLE, {"choices": [21.0]}, "The answer is not in a form this question accepts."),
        (TRUE_FALSE, {"value": 1}, "The answer is not in a form this question accepts."),
        (TRUE_FALSE, {"choices": [1]}, "The answer is not in a form this question accepts."),
        (FILL, {"blanks": ["1921"]}, "The answer does not fill in every blank of this question."),
        (FILL, {"blanks": ["", " "]}, "No answer was given."),
        (FILL, {"blanks": ["1921", "x" * 501]}, "An answer to a blank is too long."),
        (FILL, {"blanks": "1921"}, "The answer is not in a form this question accepts."),
        (SHORT, {"text": 5}, "The answer is not in a form this question accepts."),
        (SHORT, {"text": "字" * 10_001}, "The answer is too long."),
        (SHORT, {"text": "\n"}, "No answer was given."),
        (snapshot("essay"), {"text": "x"}, "This question cannot be answered."),
    ],
)
def test_malformed_answers_are_refused_with_a_reason(
    question: dict, response: Any, reason: str
) -> None:
    assert not response_is_valid(question, response)
    assert str(response_problem(question, response)) == reason


# --- Properties ------------------------------------------------------------------------------


@st.composite
def choice_questions(draw: st.DrawFn) -> dict[str, Any]:
    """A single- or multiple-choice snapshot with weights as the importers give them."""
    question_type = draw(st.sampled_from(["single", "multiple"]))
    size = draw(st.integers(min_value=2, max_value=8))
    if question_type == "single":
        right = draw(st.integers(min_value=0, max_value=size - 1))
        correct = [index == right for index in range(size)]
    else:
        correct = draw(st.lists(st.booleans(), min_size=size, max_size=size).filter(any))
    weights = default_weights(question_type, correct)
    return snapshot(
        question_type,
        choices=[
            choice(100 + index, flag, str(weight))
            for index, (flag, weight) in enumerate(zip(correct, weights, strict=True))
        ],
    )


@st.composite
def question_and_response(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    question = draw(choice_questions())
    ids = [option["id"] for option in question["choices"]]
    response = draw(
        st.one_of(
            st.none(),
            st.just({}),
            st.builds(
                lambda chosen: {"choices": chosen}, st.lists(st.sampled_from(ids), max_size=10)
            ),
            st.builds(lambda chosen: {"choices": chosen}, st.lists(st.integers(), max_size=3)),
            st.dictionaries(st.text(max_size=3), st.integers() | st.text(), max_size=2),
            st.text(max_size=3),
        )
    )
    return question, response


@given(question_and_response(), st.sampled_from(ALL_RULES))
def test_fraction_is_always_between_0_and_1(pair: tuple[dict, Any], rule: str) -> None:
    question, response = pair
    result = score_response(question, response, rule)
    assert 0 <= result.fraction <= 1
    assert isinstance(result.fraction, Fraction)
    assert (result.state == C) == (result.fraction == 1)


@given(choice_questions(), st.sampled_from(ALL_RULES))
def test_exact_correct_set_earns_full_marks_under_every_rule(question: dict, rule: str) -> None:
    correct = [option["id"] for option in question["choices"] if option["is_correct"]]
    assert score_response(question, {"choices": correct}, rule) == ScoreResult(Fraction(1), C)


@given(choice_questions(), st.sampled_from([AON, PARTIAL, WEIGHTS]), st.data())
def test_adding_a_wrong_option_never_raises_the_score(
    question: dict, rule: str, data: st.DataObject
) -> None:
    wrong = [option["id"] for option in question["choices"] if not option["is_correct"]]
    ids = [option["id"] for option in question["choices"] if option["id"] not in wrong]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True, min_size=1))
    extra = data.draw(st.sampled_from(wrong)) if wrong else None
    if extra is None or question["type"] == "single":
        return
    before = score_response(question, {"choices": chosen}, rule).fraction
    after = score_response(question, {"choices": [*chosen, extra]}, rule).fraction
    assert after <= before
    if rule != WEIGHTS:
        # Under the two set rules a wrong option always costs everything.
        assert after == 0


@given(st.lists(st.sampled_from(["1921", "１９２１", "1927", "", " "]), min_size=2, max_size=2))
def test_fill_in_share_is_blanks_right_over_blanks(given_blanks: list[str]) -> None:
    question = snapshot("fill_blank", blanks=[["1921"], ["1921"]])
    right = sum(1 for text in given_blanks if text in ("1921", "１９２１"))
    result = score_response(question, {"blanks": given_blanks}, PARTIAL)
    if all(not text.strip() for text in given_blanks):
        assert result.state == U
    else:
        assert result.fraction == Fraction(right, 2)
        aon = score_response(question, {"blanks": given_blanks}, AON).fraction
        assert aon == (1 if right == 2 else 0)


# --- Totals and grades -------------------------------------------------------------------------


def test_attempt_total_adds_marks_by_max_mark() -> None:
    results = [
        score_response(MULTIPLE, {"choices": [21, 22]}, PARTIAL),  # 1/2 of 2
        score_response(SINGLE, {"choices": [11]}),  # 1 of 1
        score_response(FILL, {"blanks": ["1921", "北京"]}, PARTIAL),  # 1/2 of 3
        score_response(TRUE_FALSE, None),  # 0 of 1
    ]
    total = attempt_total(results, [2, Decimal("1"), Decimal("3"), 1])
    assert total == AttemptTotal(score=Fraction(7, 2), max_score=Fraction(7), needs_grading=False)
    assert total.percent == 50


def test_attempt_total_defaults_to_one_mark_each() -> None:
    results = [score_response(SINGLE, {"choices": [11]}), score_response(SINGLE, {"choices": [13]})]
    assert attempt_total(results) == AttemptTotal(Fraction(1), Fraction(2), False)


def test_attempt_total_waits_for_grading_and_uses_graded_marks() -> None:
    results = [score_response(SINGLE, {"choices": [11]}), score_response(SHORT, {"text": "答"})]
    waiting = attempt_total(results, [1, 4])
    assert waiting.needs_grading
    assert waiting.score == 1
    graded = attempt_total(results, [1, 4], graded_marks={1: Decimal("2.5")})
    assert graded == AttemptTotal(Fraction(7, 2), Fraction(5), False)


def test_attempt_total_refuses_floats_and_mismatched_lengths() -> None:
    results = [score_response(SINGLE, {"choices": [11]})]
    with pytest.raises(TypeError):
        attempt_total(results, [0.5])
    with pytest.raises(ValueError, match="max mark"):
        attempt_total(results, [1, 1])


def test_empty_attempt_has_no_percent() -> None:
    assert attempt_total([]).percent is None


SCORES = [Decimal("60"), Decimal("85.5"), Decimal("72.25")]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (GradingMethod.HIGHEST, Decimal("85.5")),
        (GradingMethod.FIRST, Decimal("60")),
        (GradingMethod.LAST, Decimal("72.25")),
        # (60 + 85.5 + 72.25) / 3 = 217.75 / 3 = 72.58333…
        (GradingMethod.AVERAGE, Decimal("72.583333333333")),
    ],
)
def test_grading_methods(method: str, expected: Decimal) -> None:
    assert grade_from_attempts(method, SCORES) == expected


def test_average_is_exact() -> None:
    assert grade_exact(GradingMethod.AVERAGE, SCORES) == Fraction(21775, 300)
    assert grade_from_attempts(
        GradingMethod.AVERAGE, [Decimal("85.5"), Decimal("90.25")]
    ) == Decimal("87.875")
    assert round_for_display(Fraction(21775, 300)) == Decimal("72.58")


def test_no_attempts_no_grade() -> None:
    for method in GradingMethod.values:
        assert grade_from_attempts(method, []) is None


def test_unknown_grading_method_is_refused() -> None:
    with pytest.raises(ValueError, match="grading method"):
        grade_from_attempts("median", SCORES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(85125, 1000), Decimal("85.13")),  # half up, not to even
        (Fraction(85115, 1000), Decimal("85.12")),
        (Fraction(2, 3), Decimal("0.67")),
        (Decimal("100"), Decimal("100.00")),
        (Fraction(-1, 3), Decimal("-0.33")),
    ],
)
def test_round_for_display(value: Fraction | Decimal, expected: Decimal) -> None:
    assert round_for_display(value) == expected
    assert str(round_for_display(value)) == str(expected)


@given(st.fractions(min_value=0, max_value=10_000, max_denominator=10_000))
def test_to_decimal_is_exact_when_finite_and_close_otherwise(value: Fraction) -> None:
    converted = to_decimal(value)
    assert abs(Fraction(converted) - value) <= Fraction(1, 2 * 10**12)
    denominator = value.denominator
    while denominator % 2 == 0:
        denominator //= 2
    while denominator % 5 == 0:
        denominator //= 5
    if denominator == 1:
        assert Fraction(converted) == value


@given(st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=1, max_size=20))
def test_average_display_never_suffers_double_rounding(scores: list[Decimal]) -> None:
    exact = grade_exact(GradingMethod.AVERAGE, scores)
    assert exact is not None
    stored = grade_from_attempts(GradingMethod.AVERAGE, scores)
    assert stored is not None
    assert round_for_display(stored) == round_for_display(exact)
