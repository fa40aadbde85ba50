"""Moodle-style quiz statistics: how the attempts spread, and how well each question works.

Pure functions over marks already scored; no database access. The definitions follow
Moodle's "Quiz statistics calculations" (docs.moodle.org), written here from the
formulas, in plain floats: these are descriptive numbers for teachers, not grades.

Notation: S attempts, attempt s scored ``x_is`` on question i and ``T_s`` in total.
Variances and covariances divide by S - 1 (sample estimates), as Moodle does.

Test level (over attempt totals T_s, in marks)
    mean, median, standard deviation SD = sqrt(V(T));
    skewness = k3 / k2^1.5 and kurtosis (excess) = k4 / k2^2, from the unbiased
    cumulants k2 = S·m2/(S-1), k3 = S²·m3/((S-1)(S-2)),
    k4 = S²·((S+1)·m4 - 3(S-1)·m2²)/((S-1)(S-2)(S-3)), m_r = mean of (T - mean)^r;
    coefficient of internal consistency CIC = 100 · P/(P-1) · (1 - Σ V(x_i) / V(T))
    (Cronbach's alpha, in %, P questions); error ratio ER = 100 · sqrt(1 - CIC/100);
    standard error SE = ER/100 · SD (in marks).

Question level (over the attempts that contain the question)
    facility index F = 100 · mean(x_i) / max mark (the share of the mark earned);
    standard deviation = 100 · sqrt(V(x_i)) / max mark (in % of the mark);
    discrimination index D = 100 · r(x_i, X_i), the correlation of the question's
    score with the rest of the test X_i = T - x_i;
    discriminative efficiency DE = 100 · C(x_i, X_i) / C_max, where C_max is the
    covariance the same two lists of numbers would have if each were sorted, i.e. the
    largest D possible given the two distributions;
    option frequencies: how many attempts chose each option, and their share.

Questions drawn from a pool leave cells empty: an attempt that did not get a question
has no mark for it (not 0). Question statistics use only the attempts that had the
question. The test-level CIC needs every attempt to have every question; for a drawn
quiz, key the marks by slot (position in the attempt) rather than by question, as
Moodle does for its random slots. Anything undefined (too few attempts, no spread) is
None rather than a division by zero.
"""

from __future__ import annotations

import math
import statistics as pystats
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import chain
from operator import add, mul, sub

Key = Hashable
Number = Decimal | Fraction | int | float


@dataclass(frozen=True)
class AttemptMarks:
    """One attempt: the mark on each question it contained, and the options chosen.

    ``choices`` maps a question to the options the member ticked (empty or absent: no
    answer); only choice questions need it.
    """

    marks: Mapping[Key, Number]
    choices: Mapping[Key, Sequence[Key]] = field(default_factory=dict)


@dataclass(frozen=True)
class OptionFrequency:
    """How often one option was chosen among the attempts that had the question."""

    option: Key
    count: int
    share: float


@dataclass(frozen=True)
class QuestionStatistics:
    """Moodle's per-question statistics; percentages as 0-100."""

    question: Key
    attempts: int
    max_mark: float
    mean: float | None
    facility_index: float | None
    standard_deviation: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    options: tuple[OptionFrequency, ...] = ()


@dataclass(frozen=True)
class QuizStatistics:
    """Moodle's test statistics plus one row per question."""

    attempts: int
    mean: float | None
    median: float | None
    standard_deviation: float | None
    skewness: float | None
    kurtosis: float | None
    internal_consistency: float | None
    error_ratio: float | None
    standard_error: float | None
    questions: tuple[QuestionStatistics, ...]


def quiz_statistics(
    attempts: Sequence[AttemptMarks],
    max_marks: Mapping[Key, Number],
    *,
    options: Mapping[Key, Sequence[Key]] | None = None,
) -> QuizStatistics:
    """The statistics of ``attempts`` at a quiz whose questions are worth ``max_marks``.

    Questions are reported in the order of ``max_marks``. ``options`` lists each choice
    question's options so that those nobody chose are reported too (with count 0); an
    option chosen but not listed is reported after the listed ones. Marks for a question
    not in ``max_marks`` are ignored, and so are choices for a question the attempt has
    no mark for.
    """
    keys = list(max_marks)
    marks_of = [attempt.marks for attempt in attempts]
    choices_of = [attempt.choices for attempt in attempts]
    every_row = range(len(marks_of))
    columns = [_column(key, marks_of, every_row) for key in keys]
    totals = [0.0] * len(marks_of)
    for column in columns:
        if column.rows is every_row:
            totals = list(map(add, totals, column.scores))
        else:
            for row, score in zip(column.rows, column.scores, strict=True):
                totals[row] += score

    questions = tuple(
        _question_statistics(
            column,
            float(max_marks[column.key]),
            totals,
            choices_of,
            None if options is None else options.get(column.key),
        )
        for column in columns
    )
    return _test_statistics(totals, [column.scores for column in columns], questions)


@dataclass(frozen=True)
class _Column:
    """One question's cells: its scores as floats and the attempts (rows) they belong to."""

    key: Key
    rows: Sequence[int]
    scores: list[float]


def _column(key: Key, marks_of: list[Mapping[Key, Number]], every_row: range) -> _Column:
    # List comprehensions over one question at a time: this is the only loop over all
    # cells, and it is what makes 10,000 × 50 take well under a second in plain Python.
    try:
        return _Column(key, every_row, [float(marks[key]) for marks in marks_of])
    except KeyError:
        # A drawn quiz: only some attempts had this question.
        rows = [row for row, marks in enumerate(marks_of) if key in marks]
        return _Column(key, rows, [float(marks_of[row][key]) for row in rows])


# --- Test level ------------------------------------------------------------------------------


def _test_statistics(
    totals: list[float], columns: list[list[float]], questions: tuple[QuestionStatistics, ...]
) -> QuizStatistics:
    count = len(totals)
    if count == 0:
        return QuizStatistics(0, None, None, None, None, None, None, None, None, questions)
    mean = math.fsum(totals) / count
    median = pystats.median(totals)
    if count < 2 or _constant(totals):
        # One attempt, or everybody scored the same: no variance, nothing to divide by.
        sd = 0.0 if count >= 2 else None
        return QuizStatistics(count, mean, median, sd, None, None, None, None, None, questions)

    deviations = [total - mean for total in totals]
    squares = list(map(mul, deviations, deviations))
    m2 = math.fsum(squares) / count
    m3 = math.fsum(map(mul, squares, deviations)) / count
    m4 = math.fsum(map(mul, squares, squares)) / count
    variance = m2 * count / (count - 1)
    sd = math.sqrt(variance)
    skewness = None
    kurtosis = None
    if count >= 3:
        k3 = count * count * m3 / ((count - 1) * (count - 2))
        skewness = k3 / variance**1.5
    if count >= 4:
        k4 = (
            count
            * count
            * ((count + 1) * m4 - 3 * (count - 1) * m2 * m2)
            / ((count - 1) * (count - 2) * (count - 3))
        )
        kurtosis = k4 / (variance * variance)

    cic, error_ratio, standard_error = _reliability(count, variance, sd, columns)
    return QuizStatistics(
        attempts=count,
        mean=mean,
        median=median,
        standard_deviation=sd,
        skewness=skewness,
        kurtosis=kurtosis,
        internal_consistency=cic,
        error_ratio=error_ratio,
        standard_error=standard_error,
        questions=questions,
    )


def _reliability(
    count: int, variance: float, sd: float, columns: list[list[float]]
) -> tuple[float | None, float | None, float | None]:
    """CIC, error ratio and standard error, or None where they are not defined."""
    items = len(columns)
    if items < 2 or any(len(column) != count for column in columns):
        # Cronbach's alpha compares item variances with the variance of their sum, which
        # means nothing when attempts had different questions.
        return None, None, None
    item_variance = math.fsum(_variance(column) or 0.0 for column in columns)
    cic = 100 * items / (items - 1) * (1 - item_variance / variance)
    # CIC is at most 100 (Cauchy-Schwarz), but rounding can push it a hair above, and
    # the square root must not fail; a negative CIC still has an error ratio.
    error_ratio = 100 * math.sqrt(max(0.0, 1 - cic / 100))
    return cic, error_ratio, error_ratio / 100 * sd


# --- Question level -------------------------------------------------------------------------


def _question_statistics(
    column: _Column,
    max_mark: float,
    totals: list[float],
    choices_of: list[Mapping[Key, Sequence[Key]]],
    listed_options: Sequence[Key] | None,
) -> QuestionStatistics:
    key = column.key
    scores = column.scores
    count = len(scores)
    frequencies = _option_frequencies(column, choices_of, listed_options)
    if count == 0:
        return QuestionStatistics(key, 0, max_mark, None, None, None, None, None, frequencies)
    if len(column.rows) == len(totals):
        rest = list(map(sub, totals, scores))
    else:
        rest = [totals[row] - score for row, score in zip(column.rows, scores, strict=True)]
    mean = math.fsum(scores) / count
    facility = 100 * mean / max_mark if max_mark > 0 else None
    variance = _variance(scores)
    sd = None
    if variance is not None and max_mark > 0:
        sd = 100 * math.sqrt(variance) / max_mark
    discrimination, efficiency = _discrimination(scores, rest)
    return QuestionStatistics(
        question=key,
        attempts=count,
        max_mark=max_mark,
        mean=mean,
        facility_index=facility,
        standard_deviation=sd,
        discrimination_index=discrimination,
        discriminative_efficiency=efficiency,
        options=frequencies,
    )


def _discrimination(scores: list[float], rest: list[float]) -> tuple[float | None, float | None]:
    """D and DE of a question: its correlation with the rest of the test, in %."""
    count = len(scores)
    if count < 2 or _constant(scores) or _constant(rest):
        return None, None
    score_mean = math.fsum(scores) / count
    rest_mean = math.fsum(rest) / count
    score_dev = [value - score_mean for value in scores]
    rest_dev = [value - rest_mean for value in rest]
    covariance = math.fsum(map(mul, score_dev, rest_dev))
    score_ss = math.fsum(map(mul, score_dev, score_dev))
    rest_ss = math.fsum(map(mul, rest_dev, rest_dev))
    # The (S - 1) divisors cancel in both ratios, so sums of products are enough.
    discrimination = 100 * covariance / math.sqrt(score_ss * rest_ss)
    # Sorting both lists pairs the largest with the largest: the largest covariance two
    # lists with these values can have (the rearrangement inequality).
    score_dev.sort()
    rest_dev.sort()
    best = math.fsum(map(mul, score_dev, rest_dev))
    efficiency = 100 * covariance / best if best > 0 else None
    return discrimination, efficiency


def _option_frequencies(
    column: _Column,
    choices_of: list[Mapping[Key, Sequence[Key]]],
    listed_options: Sequence[Key] | None,
) -> tuple[OptionFrequency, ...]:
    # The chosen ids come from responses the save service accepted, which never name
    # an option twice, so each id in them is one attempt choosing that option.
    key = column.key
    chosen = [choices_of[row].get(key) for row in column.rows]
    counted = Counter(chain.from_iterable(filter(None, chosen)))
    if not counted and listed_options is None:
        return ()
    counts: dict[Key, int] = {option: counted.get(option, 0) for option in listed_options or ()}
    for option, count in counted.items():
        counts.setdefault(option, count)
    total = len(column.scores)
    return tuple(
        OptionFrequency(option=option, count=count, share=count / total if total else 0.0)
        for option, count in counts.items()
    )


def _variance(values: list[float]) -> float | None:
    count = len(values)
    if count < 2:
        return None
    if _constant(values):
        return 0.0
    mean = math.fsum(values) / count
    deviations = [value - mean for value in values]
    return math.fsum(map(mul, deviations, deviations)) / (count - 1)


def _constant(values: list[float]) -> bool:
    # Comparing the extremes, not a computed variance: summing equal floats can leave a
    # tiny non-zero spread that would then be divided by.
    return min(values) == max(values)
