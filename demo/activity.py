"""About 90 days of plausible study activity for the demo organisation.

Every point goes through the ledger's award statement, exactly as real study will, so
caps, roll-ups and the ledger check all hold: a day's awards are handed to
``points_award_many`` together (on PostgreSQL one pipeline instead of a round trip or
three per award), and each day is a transaction of its own. A lesson is completed the
only way a member can complete one: by reading it, as heartbeats to
``learning.study.progress.lesson_heartbeats`` until its minimum study time has passed
and the end is reached. So the lesson progress behind assigned study and the completion
reports agrees with the ledger (the demo once awarded ``lesson_completed`` points
without any lesson behind them, and the report said nobody had completed anything).
Branches differ in habit (some study almost daily, some rarely), members differ within
a branch, weekends are quieter. The random generator is seeded, so the activity is the
same on every machine, and keys are derived from member, day and action, so a second
run adds nothing. A run stopped halfway keeps the days it finished, and a second run
then adds nothing either: start over from an empty database.
"""

from __future__ import annotations

import datetime
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from learning.models import Member, Organization, PointsEntry, Screen
from learning.points.ledger import AwardRequest, points_award_many
from learning.study.progress import MAX_CREDIT, Heartbeat, LessonRequirements, lesson_heartbeats

KEY_PREFIX = "demo:"
# Not a rule: reading a lesson, whose points come from the lesson's own completion.
LESSON_ACTION = "lesson"
DEFAULT_DAYS = 90
# Demo readers beat at the longest gap one heartbeat is credited for (the page itself
# beats every 30 s): the same verified time with a third fewer calls, which keeps the
# 90-day activity step of seed_demo short.
HEARTBEAT_SECONDS = MAX_CREDIT
# On a day of study, the chance that a member also finishes the next lesson.
LESSON_CHANCE = 0.12


@dataclass(frozen=True)
class DemoLesson:
    """A lesson members may read, with what completing it takes (from the page)."""

    lesson_id: int
    requirements: LessonRequirements


@dataclass(frozen=True)
class ActivitySummary:
    awards: int
    points: int
    screen: Screen | None


def demo_activity_seed(
    *,
    committee: Organization,
    days: int = DEFAULT_DAYS,
    lessons: Sequence[DemoLesson] = (),
    now: datetime.datetime | None = None,
) -> ActivitySummary:
    """Award ``days`` days of study to the members below ``committee`` (once).

    Members read ``lessons`` in the order given, one now and then, each from where they
    stopped; ``learning`` knows lessons only by id, so the caller supplies them.
    """
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
    next_lesson = dict.fromkeys((member.pk for member in members), 0)
    before = _ledger_size()
    for offset in range(days, -1, -1):
        day = now.date() - datetime.timedelta(days=offset)
        # A day at a time: a transaction of 90 days kept every version of the rows each
        # award adds to (a branch's totals, thousands of times) and slowed every award on
        # PostgreSQL as it went (docs/benchmarks.md#demo-data).
        with transaction.atomic():
            _day_seed(day, members, habits, lessons, next_lesson, now)
    after = _ledger_size()
    return ActivitySummary(awards=after[0] - before[0], points=after[1] - before[1], screen=screen)


def _day_seed(
    day: datetime.date,
    members: Sequence[Member],
    habits: dict[str, float],
    lessons: Sequence[DemoLesson],
    next_lesson: dict[int, int],
    now: datetime.datetime,
) -> None:
    """Award one day's study of every member, in the members' order."""
    pending: list[AwardRequest] = []
    for member in members:
        for rule_code, quantity, at in _member_day(member, day, habits, now):
            if rule_code == LESSON_ACTION:
                # Reading awards study time too: the awards before it are made first,
                # so every daily cap is reached in the same order as one by one.
                points_award_many(awards=pending)
                pending = []
                index = next_lesson[member.pk]
                if index < len(lessons) and _lesson_read(member, lessons[index], at, now):
                    next_lesson[member.pk] = index + 1
                continue
            pending.append(
                AwardRequest(
                    member=member,
                    rule_code=rule_code,
                    key=f"{KEY_PREFIX}{member.pk}:{day.isoformat()}:{rule_code}",
                    quantity=quantity,
                    occurred_at=at,
                )
            )
    points_award_many(awards=pending)


def _ledger_size() -> tuple[int, int]:
    """Entries and points in the ledger, to count what study (of any kind) awarded."""
    totals = PointsEntry.objects.aggregate(entries=Count("pk"), points=Sum("points"))
    return totals["entries"], totals["points"] or 0


def _lesson_read(
    member: Member, lesson: DemoLesson, start: datetime.datetime, now: datetime.datetime
) -> bool:
    """Read ``lesson`` from ``start`` through its heartbeats; False when it would end after now."""
    requirements = lesson.requirements
    beats = requirements.min_seconds // HEARTBEAT_SECONDS + 1
    if start + datetime.timedelta(seconds=beats * HEARTBEAT_SECONDS) > now:
        return False
    results = lesson_heartbeats(
        member=member,
        lesson_id=lesson.lesson_id,
        requirements=requirements,
        beats=[
            Heartbeat(
                at=start + datetime.timedelta(seconds=beat * HEARTBEAT_SECONDS),
                visible=True,
                active=True,
                reached_end=beat == beats,
                closing=beat == beats,
            )
            for beat in range(beats + 1)
        ],
    )
    return results[-1].progress.completed_at is not None


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
    if rng.random() < LESSON_CHANCE:
        actions.append((LESSON_ACTION, 1, moments[0]))
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
