"""Points given through the ledger, in exact amounts: the uncapped rules add up to any even sum."""

from __future__ import annotations

import datetime

from learning.models import Member
from learning.points.ledger import points_award
from tests.factories.times import at


def give(member: Member, points: int, day: datetime.date, key: str | None = None) -> None:
    """Award exactly ``points`` on ``day`` with the exam rule (10 each) and reflection rule (2).

    The awards' keys start with ``key``, by default the member's and the day's: giving twice
    with the same key awards once.
    """
    prefix = key or f"{member.pk}:{day}"
    exams, rest = divmod(points, 10)
    for i in range(exams):
        points_award(
            member=member, rule_code="exam_passed", key=f"{prefix}:e{i}", occurred_at=at(day)
        )
    for i in range(rest // 2):
        points_award(
            member=member,
            rule_code="reflection_accepted",
            key=f"{prefix}:r{i}",
            occurred_at=at(day),
        )
