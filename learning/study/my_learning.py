"""What a member sees of their own study: today's tasks, courses, and study time by week.

Read-only selectors for the home page (``cms`` calls ``member_today_tasks``) and the
*My learning* page at ``/learn/``. Each costs a fixed handful of queries, however much
the member has studied.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from learning.common.periods import Period, period_start
from learning.models import LessonProgress, Member, StudyDay
from learning.study.assignments import MemberAssignment, member_assignments
from learning.study.pages import (
    course_content_type_id,
    lesson_content_type_id,
    live_lessons,
    parent_path,
)

# The home page lists at most this many tasks; the rest are on "my learning".
HOME_TASK_LIMIT = 5
STUDY_WEEKS = 8


def duration_text(seconds: int) -> str:
    """A study duration for people: "45 min", "2 h 5 min" (minutes rounded down)."""
    minutes = seconds // 60
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(hours)d h %(minutes)d min") % {"hours": minutes // 60, "minutes": minutes % 60}


# --- Today's tasks (home page) ----------------------------------------------------


@dataclass(frozen=True)
class LessonInProgress:
    """A lesson the member opened and has not completed yet."""

    lesson: Page
    verified_seconds: int

    @property
    def studied_text(self) -> str:
        return duration_text(self.verified_seconds)


@dataclass(frozen=True)
class TodayTasks:
    """The home page's "today": unfinished assignments (soonest due first), then lessons."""

    assignments: list[MemberAssignment]
    lessons: list[LessonInProgress]
    more: int = 0

    def __bool__(self) -> bool:
        return bool(self.assignments or self.lessons)


def member_today_tasks(
    member: Member, *, today: datetime.date | None = None, limit: int = HOME_TASK_LIMIT
) -> TodayTasks:
    """Unfinished assignments due soonest first, then lessons left half-read."""
    # member_assignments lists unfinished study first, soonest due first.
    unfinished = [row for row in member_assignments(member, today=today) if not row.is_finished]
    shown = unfinished[:limit]
    assigned_lessons = {lesson_id for row in unfinished for lesson_id in row.lesson_ids}
    room = limit - len(shown)
    lessons = _lessons_in_progress(member, exclude=assigned_lessons, limit=room) if room > 0 else []
    return TodayTasks(assignments=shown, lessons=lessons, more=len(unfinished) - len(shown))


def _lessons_in_progress(
    member: Member, *, exclude: set[int], limit: int
) -> list[LessonInProgress]:
    rows = (
        LessonProgress.objects.filter(
            member=member,
            completed_at__isnull=True,
            lesson__live=True,
            lesson__content_type_id=lesson_content_type_id(),
        )
        .exclude(lesson_id__in=exclude)
        .select_related("lesson")
        .order_by(F("last_studied_at").desc(nulls_last=True), "-first_opened_at")[:limit]
    )
    return [
        LessonInProgress(lesson=row.lesson, verified_seconds=row.verified_seconds) for row in rows
    ]


# --- Courses -----------------------------------------------------------------------


@dataclass(frozen=True)
class CourseProgress:
    """A course the member has started: live lessons completed out of live lessons."""

    course: Page
    lesson_count: int
    completed_count: int
    completed_at: datetime.datetime | None
    last_activity: datetime.datetime | None
    next_lesson: Page | None

    @property
    def percent(self) -> int:
        if self.lesson_count == 0:
            return 0
        return min(100, self.completed_count * 100 // self.lesson_count)

    @property
    def is_complete(self) -> bool:
        return self.lesson_count > 0 and self.completed_count >= self.lesson_count


@dataclass(frozen=True)
class MemberCourses:
    in_progress: list[CourseProgress] = field(default_factory=list)
    completed: list[CourseProgress] = field(default_factory=list)


def member_courses(member: Member) -> MemberCourses:
    """Courses with at least one lesson opened, split into in progress and completed.

    The percentage counts the course's lessons that are live now, so a lesson added
    later reopens a completed course; the completion date is the last lesson's.
    """
    progress = list(
        LessonProgress.objects.filter(member=member).values_list(
            "lesson_id", "lesson__path", "completed_at", "last_studied_at", "first_opened_at"
        )
    )
    if not progress:
        return MemberCourses()
    course_paths = {path[: -Page.steplen] for _id, path, *_rest in progress}
    courses = list(
        Page.objects.live()
        .public()
        .filter(content_type_id=course_content_type_id(), path__in=course_paths)
    )
    if not courses:
        return MemberCourses()
    lessons_of: dict[str, list[Page]] = defaultdict(list)
    for lesson in live_lessons(parent_paths=[course.path for course in courses]).order_by("path"):
        lessons_of[parent_path(lesson)].append(lesson)
    by_lesson = {
        lesson_id: (completed_at, last_studied_at or first_opened_at)
        for lesson_id, _path, completed_at, last_studied_at, first_opened_at in progress
    }
    result = MemberCourses()
    for course in courses:
        lessons = lessons_of.get(course.path, [])
        opened = [by_lesson[lesson.pk] for lesson in lessons if lesson.pk in by_lesson]
        if not opened:
            continue
        completed_times = [completed_at for completed_at, _activity in opened if completed_at]
        activity = [moment for _completed, moment in opened if moment]
        row = CourseProgress(
            course=course,
            lesson_count=len(lessons),
            completed_count=len(completed_times),
            completed_at=max(completed_times) if len(completed_times) == len(lessons) else None,
            last_activity=max(activity) if activity else None,
            next_lesson=next(
                (lesson for lesson in lessons if not by_lesson.get(lesson.pk, (None,))[0]),
                None,
            ),
        )
        (result.completed if row.is_complete else result.in_progress).append(row)
    epoch = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    result.in_progress.sort(key=lambda row: row.last_activity or epoch, reverse=True)
    result.completed.sort(key=lambda row: row.completed_at or epoch, reverse=True)
    return result


# --- Study time by week -------------------------------------------------------------


@dataclass(frozen=True)
class StudyWeek:
    """Verified study seconds in one week (Monday to Sunday, local time)."""

    start: datetime.date
    seconds: int
    percent_of_best: int
    is_current: bool

    @property
    def end(self) -> datetime.date:
        return self.start + datetime.timedelta(days=6)

    @property
    def duration(self) -> str:
        return duration_text(self.seconds)


def member_weekly_study(
    member: Member, *, weeks: int = STUDY_WEEKS, today: datetime.date | None = None
) -> list[StudyWeek]:
    """The member's verified study time in each of the last ``weeks`` weeks, newest first."""
    today = today or timezone.localdate()
    this_week = period_start(Period.WEEK, today)
    first_week = this_week - datetime.timedelta(weeks=weeks - 1)
    totals: dict[datetime.date, int] = defaultdict(int)
    days = StudyDay.objects.filter(member=member, day__gte=first_week, day__lte=today)
    for day, seconds in days.values_list("day", "seconds"):
        totals[period_start(Period.WEEK, day)] += seconds
    best = max(totals.values(), default=0)
    starts = [this_week - datetime.timedelta(weeks=offset) for offset in range(weeks)]
    return [
        StudyWeek(
            start=start,
            seconds=totals[start],
            percent_of_best=totals[start] * 100 // best if best else 0,
            is_current=start == this_week,
        )
        for start in starts
    ]


# --- The whole page -----------------------------------------------------------------


@dataclass(frozen=True)
class MyLearning:
    """Everything the *My learning* page shows."""

    assignments: list[MemberAssignment]
    courses: MemberCourses
    weeks: list[StudyWeek]

    @property
    def weeks_total_seconds(self) -> int:
        return sum(week.seconds for week in self.weeks)

    @property
    def weeks_total(self) -> str:
        return duration_text(self.weeks_total_seconds)


def member_learning_summary(member: Member, *, today: datetime.date | None = None) -> MyLearning:
    """My assignments, my courses and my study time by week, for ``/learn/`` and the API."""
    today = today or timezone.localdate()
    return MyLearning(
        assignments=member_assignments(member, today=today),
        courses=member_courses(member),
        weeks=member_weekly_study(member, today=today),
    )
