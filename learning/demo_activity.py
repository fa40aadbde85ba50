"""About 90 days of plausible study activity for the demo organisation.

Every point goes through ``points_award``, exactly as real study will, so caps,
roll-ups and the ledger check all hold. Branches differ in habit (some study almost
daily, some rarely), members differ within a branch, weekends are quieter. The random
generator is seeded, so the activity is the same on every machine, and keys are
derived from member, day and action, so a second run adds nothing.
"""

from __future__ import annotations

import datetime
import random
import zlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from learning.ledger import points_award
from learning.models import Member, Organization, PointsEntry, Screen

KEY_PREFIX = "demo:"
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class ActivitySummary:
    awards: int
    points: int
    screen: Screen | None


def demo_activity_seed(
    *, committee: Organization, days: int = DEFAULT_DAYS, now: datetime.datetime | None = None
) -> ActivitySummary:
    """Award ``days`` days of study to the members below ``committee`` (once)."""
    screen = _demo_screen(committee)
    if PointsEntry.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists():
        return ActivitySummary(awards=0, points=0, screen=screen)
    now = timezone.localtime(now)
    members = list(
        Member.objects.filter(
            organization__path__startswith=committee.path, is_active=True
        ).select_related("organization")
    )
    habits = _branch_habits(committee)
    awards = points = 0
    with transaction.atomic():
        for offset in range(days, -1, -1):
            day = now.date() - datetime.timedelta(days=offset)
            for member in members:
                for rule_code, quantity, at in _member_day(member, day, habits, now):
                    result = points_award(
                        member=member,
                        rule_code=rule_code,
                        key=f"{KEY_PREFIX}{member.pk}:{day.isoformat()}:{rule_code}",
                        quantity=quantity,
                        occurred_at=at,
                    )
                    awards += int(result.created)
                    points += result.points if result.created else 0
    return ActivitySummary(awards=awards, points=points, screen=screen)


def _branch_habits(committee: Organization) -> dict[str, float]:
    """Each organisation's chance that a member studies on a weekday (0.15–0.85)."""
    habits = {}
    for organization in Organization.objects.filter(path__startswith=committee.path):
        rng = random.Random(zlib.crc32(organization.code.encode()))
        habits[organization.path] = rng.choice([0.15, 0.3, 0.45, 0.6, 0.75, 0.85])
    return habits


def _member_day(
    member: Member,
    day: datetime.date,
    habits: dict[str, float],
    now: datetime.datetime,
) -> list[tuple[str, int, datetime.datetime]]:
    """What one member did on one day: (rule, quantity, moment) triples."""
    rng = random.Random(f"{member.pk}:{day.isoformat()}")
    personal = random.Random(member.pk).uniform(0.5, 1.3)
    chance = habits.get(member.organization.path, 0.4) * personal
    if day.weekday() >= 5:
        chance *= 0.45
    if rng.random() >= min(chance, 0.95):
        return []
    start = datetime.datetime.combine(day, datetime.time(7, 30), tzinfo=now.tzinfo)
    moments = sorted(start + datetime.timedelta(minutes=rng.randint(0, 14 * 60)) for _ in range(4))
    actions = [("study_time", rng.randint(1, 6), moments[1])]
    if rng.random() < 0.7:
        actions.append(("lesson_completed", rng.randint(1, 4), moments[0]))
    correct = rng.choice([0, 2, 3, 3, 4, 4, 5, 5, 5])
    if correct and rng.random() < 0.7:
        actions.append(("daily_quiz_correct", correct, moments[2]))
    if day.weekday() == 4 and rng.random() < 0.6:
        actions.append(("weekly_quiz", rng.randint(2, 5), moments[3]))
    if rng.random() < 0.02:
        actions.append(("exam_passed", 1, moments[3]))
    return [(code, quantity, at) for code, quantity, at in actions if at <= now]


def _demo_screen(committee: Organization) -> Screen:
    screen, _created = Screen.objects.get_or_create(
        organization=committee,
        name="机关大楼一层大厅",
        defaults={"period": "week", "metric": "per_member"},
    )
    return screen
