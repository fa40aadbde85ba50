"""Study records: lesson progress (opened, completed) and assignments of courses and lessons."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cms.models import CoursePage, LessonPage
from learning.models import Assignment, LessonProgress, Member, Organization
from tests.factories.times import at


def complete(member: Member, lesson: LessonPage, day: datetime.date) -> LessonProgress:
    """Record ``lesson`` as completed by ``member`` on ``day`` (local time)."""
    progress, _created = LessonProgress.objects.update_or_create(
        member=member,
        lesson=lesson,
        defaults={
            "first_opened_at": at(day, 9),
            "last_studied_at": at(day),
            "verified_seconds": 300,
            "reached_end": True,
            "completed_at": at(day),
        },
    )
    return progress


def open_lesson(member: Member, lesson: LessonPage, day: datetime.date) -> LessonProgress:
    """Record ``lesson`` as opened but not completed."""
    return LessonProgress.objects.create(
        member=member,
        lesson=lesson,
        first_opened_at=at(day, 9),
        last_studied_at=at(day),
        verified_seconds=60,
    )


def assign(
    page: CoursePage | LessonPage,
    organizations: Sequence[Organization],
    start: datetime.date,
    due: datetime.date,
    **fields: object,
) -> Assignment:
    """Assign ``page`` to ``organizations`` from ``start`` to ``due`` (no checks, no author)."""
    assignment = Assignment.objects.create(page=page, start_date=start, due_date=due, **fields)
    assignment.organizations.set(organizations)
    return assignment
