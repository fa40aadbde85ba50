"""Helpers for assignment and "my learning" tests: courses, lessons and progress."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence

from cms.models import CourseIndexPage, CoursePage, HomePage, LessonPage
from learning.models import Assignment, LessonProgress, Member, Organization
from learning.people.services import secretary_assign
from tests.factories import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def course_index() -> CourseIndexPage:
    existing = CourseIndexPage.objects.first()
    if existing:
        return existing
    home = HomePage.objects.get()
    return home.add_child(instance=CourseIndexPage(title="课程", slug="courses"))


def add_course(title: str, lessons: Sequence[str], slug: str | None = None) -> CoursePage:
    """A live course with live lessons titled ``lessons``."""
    course = course_index().add_child(
        instance=CoursePage(
            title=title, slug=slug or f"course-{CoursePage.objects.count() + 1}", summary="概要"
        )
    )
    for number, lesson_title in enumerate(lessons, start=1):
        course.add_child(
            instance=LessonPage(
                title=lesson_title,
                slug=f"lesson-{number}",
                body=[("rich_text", "<p>正文</p>")],
            )
        )
    return course


def lessons_of(course: CoursePage) -> list[LessonPage]:
    return list(LessonPage.objects.child_of(course).order_by("path"))


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


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
    assignment = Assignment.objects.create(page=page, start_date=start, due_date=due, **fields)
    assignment.organizations.set(organizations)
    return assignment


def secretary_of(organization: Organization, username: str, display_name: str) -> Member:
    """A secretary of ``organization``'s subtree (the role comes with the appointment)."""
    secretary = MemberFactory(
        username=username, display_name=display_name, organization=organization
    )
    secretary_assign(member=secretary, organization=organization)
    return secretary
