"""A member's grade for a quiz from their attempts' scores, and marks as Decimals.

``grade_exact`` applies the quiz's grading method (highest, first, last or average) to the
scores, oldest attempt first, exactly; ``grade_from_attempts`` stores it as a Decimal. A
mark, score or grade is rounded only for display (``round_for_display``: 2 decimal places,
half up). Pure functions, like ``quizzes.taking.scoring`` whose scores they take.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from quizzes.taking.scoring import ZERO, GradingMethod, exact

# An average that is not a finite decimal (1/3) is given to this many places: the
# distance from such a mean of 2-place scores to a rounding boundary of the 2-place
# display is at least 1/(1000·n), far above 1e-12, so rounding here never changes what
# is displayed.
AVERAGE_PLACES = Decimal("1e-12")
DISPLAY_PLACES = Decimal("0.01")

_METHODS = frozenset(GradingMethod.values)


def grade_exact(method: str, scores: Sequence[Decimal | Fraction | int]) -> Fraction | None:
    """A member's grade from their attempts' scores, oldest attempt first; exact.

    None when there is no score.
    """
    if method not in _METHODS:
        raise ValueError(f"unknown grading method {method!r}")
    if not scores:
        return None
    values = [exact(score) for score in scores]
    if method == GradingMethod.HIGHEST:
        return max(values)
    if method == GradingMethod.FIRST:
        return values[0]
    if method == GradingMethod.LAST:
        return values[-1]
    return sum(values, ZERO) / len(values)


def grade_from_attempts(method: str, scores: Sequence[Decimal | Fraction | int]) -> Decimal | None:
    """``grade_exact`` as a Decimal, for storing and displaying.

    Exact whenever the grade has a finite decimal expansion (always for Decimal scores
    under highest, first and last, and for an average of them unless the count of
    attempts has a prime factor other than 2 and 5); otherwise rounded half up to 12
    places, which never changes the 2-place display (see ``AVERAGE_PLACES``).
    """
    grade = grade_exact(method, scores)
    if grade is None:
        return None
    return to_decimal(grade)


def to_decimal(value: Fraction) -> Decimal:
    """A fraction as a Decimal: exact when it can be, else to 12 places, half up."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        # A finite decimal: the digits needed are at most the larger power of 2 or 5.
        places = _finite_places(value.denominator)
        return _divide(value, Decimal(1).scaleb(-places))
    return _divide(value, AVERAGE_PLACES)


def round_for_display(value: Decimal | Fraction | int) -> Decimal:
    """A mark, score or grade rounded to 2 decimal places, half up (85.125 → 85.13)."""
    return _divide(exact(value), DISPLAY_PLACES)


def _divide(value: Fraction, quantum: Decimal) -> Decimal:
    """``value`` rounded half up to a multiple of ``quantum``, without float or context limits."""
    steps = value / Fraction(quantum)
    whole, remainder = divmod(abs(steps.numerator), steps.denominator)
    if 2 * remainder >= steps.denominator:
        whole += 1
    signed = -whole if steps < 0 else whole
    return (Decimal(signed) * quantum).quantize(quantum, rounding=ROUND_HALF_UP)


def _finite_places(denominator: int) -> int:
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    return max(twos, fives)
