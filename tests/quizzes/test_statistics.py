"""Moodle-style quiz statistics, checked against numbers worked out by hand."""

from __future__ import annotations

import math
import statistics as pystats
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from quizzes.results.statistics import AttemptMarks, OptionFrequency, quiz_statistics

approx = pytest.approx

# The small data set: 5 attempts × 3 questions; q1 and q2 worth 1 mark, q3 worth 2.
# q1 is a single-choice question with options a (right), b, c; E did not answer it.
#
#   attempt   q1  q2  q3   T    q1 chose   rest of test for q1 / q2 / q3
#   A          1   1   2   4    a          3 / 3 / 2
#   B          1   0   2   3    a          2 / 3 / 1
#   C          0   1   1   2    b          2 / 1 / 1
#   D          1   0   0   1    a          0 / 1 / 1
#   E          0   0   0   0    -          0 / 0 / 0
#
# Test level. T = 4 3 2 1 0: mean 2, median 2, deviations 2 1 0 -1 -2.
#   Σd² = 10, V(T) = 10/4 = 2.5, SD = √2.5 = 1.5811388.
#   m2 = 10/5 = 2, m3 = (8 + 1 + 0 - 1 - 8)/5 = 0 → skewness 0.
#   m4 = (16 + 1 + 0 + 1 + 16)/5 = 6.8; k2 = 2.5;
#   k4 = 25·(6·6.8 - 3·4·2²)/(4·3·2) = 25·(40.8 - 48)/24 = -7.5; kurtosis = -7.5/2.5² = -1.2.
#   Item variances: q1 (mean .6, Σd² = .16·3 + .36·2 = 1.2) → .3; q2 likewise → .3;
#   q3 (mean 1, Σd² = 1+1+0+1+1 = 4) → 1. ΣV = 1.6.
#   CIC = 100 · 3/2 · (1 - 1.6/2.5) = 150 · .36 = 54.
#   ER = 100 · √(1 - .54) = 100 · √.46 = 67.82330; SE = .6782330 · 1.5811388 = 1.0723805.
#
# q1: mean .6 → facility 60; SD = 100·√.3 = 54.772256.
#   x dev .4 .4 -.6 .4 -.6; rest 3 2 2 0 0, mean 1.4, dev 1.6 .6 .6 -1.4 -1.4.
#   Σ(x dev · rest dev) = .64 + .24 - .36 - .56 + .84 = .8; Σx dev² = 1.2; Σrest dev² = 7.2.
#   D = 100 · .8/√(1.2 · 7.2) = 80/√8.64 = 27.216553.
#   Sorted: x -.6 -.6 .4 .4 .4, rest -1.4 -1.4 .6 .6 1.6 → .84 + .84 + .24 + .24 + .64 = 2.8;
#   DE = 100 · .8/2.8 = 28.571429.
#   Options: a 3 of 5 (.6), b 1 (.2), c 0.
# q2: mean .4 → facility 40; SD 54.772256.
#   x dev .6 -.4 .6 -.4 -.4; rest 3 3 1 1 0, mean 1.6, dev 1.4 1.4 -.6 -.6 -1.6.
#   Σ = .84 - .56 - .36 + .24 + .64 = .8; Σrest dev² = 1.96·2 + .36·2 + 2.56 = 7.2 → D = 27.216553.
#   Sorted: x -.4 -.4 -.4 .6 .6, rest -1.6 -.6 -.6 1.4 1.4 → .64 + .24 + .24 + .84 + .84 = 2.8
#   → DE = 28.571429.
# q3: mean 1 of 2 → facility 50; SD = 100 · √1/2 = 50.
#   x dev 1 1 0 -1 -1; rest 2 1 1 1 0, mean 1, dev 1 0 0 0 -1.
#   Σ = 1 + 1 = 2; Σx dev² = 4; Σrest dev² = 2 → D = 100 · 2/√8 = 70.710678.
#   Sorted: x -1 -1 0 1 1, rest -1 0 0 0 1 → 1 + 1 = 2 → DE = 100.

MARKS = {
    "A": (1, 1, 2),
    "B": (1, 0, 2),
    "C": (0, 1, 1),
    "D": (1, 0, 0),
    "E": (0, 0, 0),
}
CHOSE = {"A": ["a"], "B": ["a"], "C": ["b"], "D": ["a"], "E": []}
MAX_MARKS = {"q1": Decimal(1), "q2": Decimal(1), "q3": Decimal(2)}


def small_data_set() -> list[AttemptMarks]:
    return [
        AttemptMarks(
            marks={f"q{number}": Decimal(mark) for number, mark in enumerate(row, start=1)},
            choices={"q1": CHOSE[name]},
        )
        for name, row in MARKS.items()
    ]


def test_test_level_statistics_match_the_hand_computation() -> None:
    result = quiz_statistics(small_data_set(), MAX_MARKS, options={"q1": ["a", "b", "c"]})
    assert result.attempts == 5
    assert result.mean == approx(2)
    assert result.median == approx(2)
    assert result.standard_deviation == approx(1.5811388)
    assert result.skewness == approx(0, abs=1e-12)
    assert result.kurtosis == approx(-1.2)
    assert result.internal_consistency == approx(54)
    assert result.error_ratio == approx(67.82330, rel=1e-6)
    assert result.standard_error == approx(1.0723805, rel=1e-6)


@pytest.mark.parametrize(
    ("index", "key", "facility", "sd", "discrimination", "efficiency"),
    [
        (0, "q1", 60, 54.772256, 27.216553, 28.571429),
        (1, "q2", 40, 54.772256, 27.216553, 28.571429),
        (2, "q3", 50, 50, 70.710678, 100),
    ],
)
def test_question_statistics_match_the_hand_computation(
    index: int, key: str, facility: float, sd: float, discrimination: float, efficiency: float
) -> None:
    question = quiz_statistics(small_data_set(), MAX_MARKS).questions[index]
    assert question.question == key
    assert question.attempts == 5
    assert question.facility_index == approx(facility)
    assert question.standard_deviation == approx(sd, rel=1e-6)
    assert question.discrimination_index == approx(discrimination, rel=1e-6)
    assert question.discriminative_efficiency == approx(efficiency, rel=1e-6)


def test_option_frequencies_count_every_listed_option() -> None:
    result = quiz_statistics(small_data_set(), MAX_MARKS, options={"q1": ["a", "b", "c"]})
    assert result.questions[0].options == (
        OptionFrequency("a", 3, 0.6),
        OptionFrequency("b", 1, 0.2),
        OptionFrequency("c", 0, 0.0),
    )
    # Not a choice question and no options listed: nothing to report.
    assert result.questions[1].options == ()


def test_option_chosen_but_not_listed_is_reported_after_the_listed() -> None:
    result = quiz_statistics(small_data_set(), MAX_MARKS, options={"q1": ["c", "a"]})
    assert [(row.option, row.count) for row in result.questions[0].options] == [
        ("c", 0),
        ("a", 3),
        ("b", 1),
    ]


def test_drawn_question_uses_only_the_attempts_that_had_it() -> None:
    # D and E did not draw q3. Over A, B, C: x = 2 2 1, T = 4 3 2, rest = 2 1 1.
    # Mean 5/3 of 2 → facility 83.33; x dev 1/3 1/3 -2/3, rest dev 2/3 -1/3 -1/3;
    # Σ = 2/9 - 1/9 + 2/9 = 1/3; Σx dev² = 2/3; Σrest dev² = 2/3 → D = 100 · (1/3)/(2/3) = 50.
    # Sorted: x -2/3 1/3 1/3, rest -1/3 -1/3 2/3 → 2/9 - 1/9 + 2/9 = 1/3 → DE = 100.
    # SD: V = (2/3)/2 = 1/3 → 100 · √(1/3)/2 = 28.867513.
    attempts = small_data_set()
    for attempt in attempts[3:]:
        del attempt.marks["q3"]
    result = quiz_statistics(attempts, MAX_MARKS)
    q3 = result.questions[2]
    assert q3.attempts == 3
    assert q3.facility_index == approx(250 / 3)
    assert q3.standard_deviation == approx(28.867513, rel=1e-6)
    assert q3.discrimination_index == approx(50)
    assert q3.discriminative_efficiency == approx(100)
    # Attempt totals are over the questions each attempt had: 4 3 2 1 0 as before.
    assert result.mean == approx(2)
    # Alpha needs every attempt to have every question.
    assert result.internal_consistency is None
    assert result.error_ratio is None
    assert result.standard_error is None


def test_no_attempts() -> None:
    result = quiz_statistics([], MAX_MARKS)
    assert result.attempts == 0
    assert result.mean is None
    assert result.median is None
    assert all(
        question.attempts == 0 and question.facility_index is None for question in result.questions
    )


def test_one_attempt_has_no_spread_statistics() -> None:
    result = quiz_statistics(small_data_set()[:1], MAX_MARKS)
    assert result.attempts == 1
    assert result.mean == approx(4)
    assert result.median == approx(4)
    assert result.standard_deviation is None
    assert result.skewness is None
    assert result.kurtosis is None
    assert result.internal_consistency is None
    q1 = result.questions[0]
    assert q1.facility_index == approx(100)
    assert q1.standard_deviation is None
    assert q1.discrimination_index is None
    assert q1.discriminative_efficiency is None


def test_everybody_scoring_the_same_divides_by_nothing() -> None:
    attempts = [
        AttemptMarks({"q1": Decimal(1), "q2": Decimal(0), "q3": Decimal(1)}) for _ in range(6)
    ]
    result = quiz_statistics(attempts, MAX_MARKS)
    assert result.standard_deviation == 0
    assert result.skewness is None
    assert result.kurtosis is None
    assert result.internal_consistency is None
    for question in result.questions:
        assert question.standard_deviation == 0
        assert question.discrimination_index is None
        assert question.discriminative_efficiency is None


def test_three_attempts_have_skewness_but_no_kurtosis() -> None:
    # T = 0 1 5: mean 2, dev -2 -1 3; m2 = 14/3, m3 = (-8 - 1 + 27)/3 = 6;
    # k2 = 7, k3 = 9 · 6/(2 · 1) = 27 → skewness 27/7^1.5 = 1.4578629.
    attempts = [AttemptMarks({"q": Decimal(mark)}) for mark in (0, 1, 5)]
    result = quiz_statistics(attempts, {"q": 5})
    assert result.skewness == approx(1.4578629, rel=1e-6)
    assert result.kurtosis is None
    # One question: alpha needs at least two.
    assert result.internal_consistency is None


def test_question_that_does_not_discriminate_has_no_index() -> None:
    # Everybody got q2 right; the others vary.
    attempts = [
        AttemptMarks({"q1": Decimal(a), "q2": Decimal(1), "q3": Decimal(b)})
        for a, b in ((1, 2), (0, 1), (1, 0), (0, 0))
    ]
    q2 = quiz_statistics(attempts, MAX_MARKS).questions[1]
    assert q2.facility_index == approx(100)
    assert q2.discrimination_index is None


def test_marks_for_unknown_questions_are_ignored() -> None:
    attempts = [
        AttemptMarks({"q": Decimal(1), "other": Decimal(9)}),
        AttemptMarks({"q": Decimal(0)}),
    ]
    result = quiz_statistics(attempts, {"q": 1})
    assert result.mean == approx(0.5)
    assert [question.question for question in result.questions] == ["q"]


matrices = st.integers(min_value=3, max_value=30).flatmap(
    lambda attempts: st.lists(
        st.lists(st.integers(min_value=0, max_value=4), min_size=4, max_size=4),
        min_size=attempts,
        max_size=attempts,
    )
)


@given(matrices)
def test_agrees_with_the_standard_library(rows: list[list[int]]) -> None:
    # An independent calculation of the same definitions with Python's statistics module.
    attempts = [
        AttemptMarks({index: Decimal(mark) for index, mark in enumerate(row)}) for row in rows
    ]
    result = quiz_statistics(attempts, dict.fromkeys(range(4), 4))
    totals = [sum(row) for row in rows]
    assert result.mean == approx(pystats.fmean(totals))
    assert result.median == approx(pystats.median(totals))
    assume(len(set(totals)) > 1)
    assert result.standard_deviation == approx(pystats.stdev(totals))
    item_variance = sum(pystats.variance([row[i] for row in rows]) for i in range(4))
    alpha = 4 / 3 * (1 - item_variance / pystats.variance(totals))
    assert result.internal_consistency == approx(100 * alpha)
    for i, question in enumerate(result.questions):
        scores = [row[i] for row in rows]
        rest = [total - score for total, score in zip(totals, scores, strict=True)]
        assert question.facility_index == approx(100 * pystats.fmean(scores) / 4)
        if len(set(scores)) > 1 and len(set(rest)) > 1:
            expected = 100 * pystats.correlation(scores, rest)
            assert question.discrimination_index == approx(expected, abs=1e-9)
            assert question.discriminative_efficiency is not None
            # DE is D scaled by how far the best possible pairing is: never smaller in size.
            assert (
                abs(question.discriminative_efficiency) >= abs(question.discrimination_index) - 1e-9
            )
            assert question.discriminative_efficiency <= 100 + 1e-9
        else:
            assert question.discrimination_index is None


@given(matrices)
def test_error_ratio_and_standard_error_follow_cic(rows: list[list[int]]) -> None:
    attempts = [
        AttemptMarks({index: Decimal(mark) for index, mark in enumerate(row)}) for row in rows
    ]
    result = quiz_statistics(attempts, dict.fromkeys(range(4), 4))
    if result.internal_consistency is None:
        return
    assert result.internal_consistency <= 100 + 1e-9
    assert result.error_ratio == approx(
        100 * math.sqrt(max(0, 1 - result.internal_consistency / 100))
    )
    assert result.standard_error == approx(result.error_ratio / 100 * result.standard_deviation)
