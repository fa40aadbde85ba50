"""Assigned study (指派学习): who may assign what to whom, and how far each member is.

An assignment asks the members of some organisation subtrees to complete a course (every
live lesson of it) or a single lesson by a due date. Completion is read from verified
lesson progress (``LessonProgress.completed_at``); a completion after the due date counts,
but as late. Editors and administrators assign to any organisation; a branch secretary
only within their own subtree, and sees only the assignments that touch it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from wagtail.models import Page

from learning.models import Assignment, LessonProgress, Member, Organization
from learning.people.selectors import (
    organizations_visible_to,
    secretary_roots,
    touching_subtrees_q,
    user_is_administrator,
)
from learning.study.pages import lessons_by_page, study_page_kind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

# An assignment stays on a member's list this many days after its due date.
SHOWN_DAYS_AFTER_DUE = 14
# "Due soon" on the home page: due within this many days.
DUE_SOON_DAYS = 3

ASSIGN_ANY_PERMISSION = "learning.assign_any_organization"

_Targets = Assignment.organizations.through


# --- Scope -------------------------------------------------------------------------


def can_assign_anywhere(user: Member | AnonymousUser) -> bool:
    """Administrators and editors assign study to any organisation."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user_is_administrator(user) or user.has_perm(ASSIGN_ANY_PERMISSION)


def organizations_assignable_by(user: Member | AnonymousUser) -> QuerySet[Organization]:
    """The organisations ``user`` may target: all, or a secretary's own subtree."""
    if can_assign_anywhere(user):
        return Organization.objects.all()
    return organizations_visible_to(user)


def _scope_root_paths(user: Member | AnonymousUser) -> list[str]:
    """The paths of the organisations at the top of a secretary's subtrees."""
    if not organizations_visible_to(user).exists():
        return []
    return list(secretary_roots(user).values_list("path", flat=True))


def assignments_visible_to(user: Member | AnonymousUser) -> QuerySet[Assignment]:
    """The assignments ``user`` may see in the admin and report on.

    Everything for those who assign anywhere; for a secretary, the assignments that touch
    their subtree: a target inside it, or a target above it (a committee-wide assignment
    reaches their members too).
    """
    if can_assign_anywhere(user):
        return Assignment.objects.all()
    root_paths = _scope_root_paths(user)
    if not root_paths:
        return Assignment.objects.none()
    touching = _Targets.objects.filter(assignment=OuterRef("pk")).filter(
        touching_subtrees_q(root_paths, prefix="organization__")
    )
    return Assignment.objects.filter(Exists(touching))


def assignments_editable_by(user: Member | AnonymousUser) -> QuerySet[Assignment]:
    """The assignments ``user`` may change or delete: those wholly inside their scope."""
    if can_assign_anywhere(user):
        return Assignment.objects.all()
    visible = organizations_visible_to(user)
    outside = _Targets.objects.filter(assignment=OuterRef("pk")).exclude(organization__in=visible)
    return assignments_visible_to(user).exclude(Exists(outside))


# --- Services ----------------------------------------------------------------------


def _assignment_validate(
    *,
    by: Member,
    page: Page | None,
    organizations: Sequence[Organization],
    start_date: datetime.date | None,
    due_date: datetime.date | None,
) -> None:
    errors: dict[str, list[str]] = {}
    if page is None or study_page_kind(page) is None:
        errors["page"] = [_("Choose a course or a lesson.")]
    if not organizations:
        errors["organizations"] = [_("Choose at least one organisation.")]
    else:
        allowed = set(
            organizations_assignable_by(by)
            .filter(pk__in=[org.pk for org in organizations])
            .values_list("pk", flat=True)
        )
        outside = [org.name for org in organizations if org.pk not in allowed]
        if outside:
            errors["organizations"] = [
                _("You can only assign study within your own organisations: %(names)s.")
                % {"names": "、".join(outside)}
            ]
    if start_date is None:
        errors["start_date"] = [_("Enter a start date.")]
    if due_date is None:
        errors["due_date"] = [_("Enter a due date.")]
    elif start_date is not None and start_date > due_date:
        errors["due_date"] = [_("The due date cannot be before the start date.")]
    if errors:
        raise ValidationError(errors)


def assignment_create(
    *,
    created_by: Member,
    page: Page,
    organizations: Sequence[Organization],
    start_date: datetime.date,
    due_date: datetime.date,
    title: str = "",
    note: str = "",
    is_required: bool = True,
) -> Assignment:
    """Assign ``page`` (a course or a lesson) to the members of ``organizations``' subtrees."""
    _assignment_validate(
        by=created_by,
        page=page,
        organizations=organizations,
        start_date=start_date,
        due_date=due_date,
    )
    with transaction.atomic():
        assignment = Assignment.objects.create(
            page=page,
            title=title.strip(),
            note=note.strip(),
            start_date=start_date,
            due_date=due_date,
            is_required=is_required,
            created_by=created_by,
        )
        assignment.organizations.set(organizations)
    return assignment


def assignment_update(
    *,
    assignment: Assignment,
    by: Member,
    page: Page,
    organizations: Sequence[Organization],
    start_date: datetime.date,
    due_date: datetime.date,
    title: str = "",
    note: str = "",
    is_required: bool = True,
) -> Assignment:
    """Change an assignment; a secretary may only change one wholly inside their scope."""
    if not assignments_editable_by(by).filter(pk=assignment.pk).exists():
        raise ValidationError(_("You can only change assignments within your own organisations."))
    _assignment_validate(
        by=by,
        page=page,
        organizations=organizations,
        start_date=start_date,
        due_date=due_date,
    )
    with transaction.atomic():
        assignment.page = page
        assignment.title = title.strip()
        assignment.note = note.strip()
        assignment.start_date = start_date
        assignment.due_date = due_date
        assignment.is_required = is_required
        assignment.save()
        assignment.organizations.set(organizations)
    return assignment


# --- A member's assignments --------------------------------------------------------


class Status(models.TextChoices):
    """Where a member stands with one assignment."""

    DONE = "done", gettext_lazy("Completed")
    LATE = "late", gettext_lazy("Completed late")
    IN_PROGRESS = "in_progress", pgettext_lazy("study", "In progress")
    NOT_STARTED = "not_started", gettext_lazy("Not started")


@dataclass(frozen=True)
class Completion:
    """How much of an assignment's content one member has completed."""

    lesson_count: int
    completed_count: int
    started: bool
    completed_at: datetime.datetime | None

    @property
    def is_complete(self) -> bool:
        return self.lesson_count > 0 and self.completed_count >= self.lesson_count

    @property
    def percent(self) -> int:
        if self.lesson_count == 0:
            return 0
        return min(100, self.completed_count * 100 // self.lesson_count)


def completion_status(completion: Completion, due_date: datetime.date) -> str:
    """Done on time, done late, in progress or not started (a pure function)."""
    if completion.is_complete and completion.completed_at is not None:
        completed_on = timezone.localdate(completion.completed_at)
        return Status.DONE if completed_on <= due_date else Status.LATE
    if completion.started or completion.completed_count:
        return Status.IN_PROGRESS
    return Status.NOT_STARTED


def completion_from(
    *, lesson_ids: Sequence[int], completed: dict[int, datetime.datetime | None]
) -> Completion:
    """Combine one member's per-lesson progress into a completion of a whole assignment.

    ``completed`` maps every lesson the member has opened to its completion time (None
    while unfinished); the assignment is complete when every lesson has one, at the last.
    """
    times = [completed[lesson_id] for lesson_id in lesson_ids if completed.get(lesson_id)]
    done = len(times)
    finished = bool(lesson_ids) and done == len(lesson_ids)
    return Completion(
        lesson_count=len(lesson_ids),
        completed_count=done,
        started=any(lesson_id in completed for lesson_id in lesson_ids),
        completed_at=max(times) if finished else None,
    )


@dataclass(frozen=True)
class MemberAssignment:
    """One assignment as one member sees it: what, by when, and how far they are."""

    assignment: Assignment
    completion: Completion
    status: str
    today: datetime.date
    next_lesson: Page | None
    lesson_ids: tuple[int, ...] = ()

    @property
    def page(self) -> Page:
        return self.assignment.page

    @property
    def title(self) -> str:
        return self.assignment.display_title

    @property
    def due_date(self) -> datetime.date:
        return self.assignment.due_date

    @property
    def percent(self) -> int:
        return self.completion.percent

    @property
    def is_finished(self) -> bool:
        return self.status in (Status.DONE, Status.LATE)

    @property
    def is_late(self) -> bool:
        return self.status == Status.LATE

    @property
    def is_overdue(self) -> bool:
        """Past the due date and not finished; optional study is never overdue."""
        return self.assignment.is_required and not self.is_finished and self.today > self.due_date

    @property
    def is_past_due(self) -> bool:
        return not self.is_finished and self.today > self.due_date

    @property
    def is_due_soon(self) -> bool:
        return not self.is_finished and 0 <= self.days_left <= DUE_SOON_DAYS

    @property
    def days_left(self) -> int:
        return (self.due_date - self.today).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def link_page(self) -> Page:
        """Where to go next: the next unfinished lesson once begun, else the course."""
        if self.completion.started and self.next_lesson is not None:
            return self.next_lesson
        return self.page

    @property
    def completed_on(self) -> datetime.date | None:
        if self.completion.completed_at is None:
            return None
        return timezone.localdate(self.completion.completed_at)

    @property
    def kind(self) -> str | None:
        return study_page_kind(self.page)


def assignments_for_member(
    member: Member, *, today: datetime.date | None = None
) -> QuerySet[Assignment]:
    """The member's current assignments: started, and not long past their due date.

    A member is targeted while their current organisation is in the subtree of one of
    the assignment's organisations, i.e. one of the targets is it or above it.
    """
    today = today or timezone.localdate()
    if member.organization_id is None:
        return Assignment.objects.none()
    paths = member.organization.ancestor_paths()
    targeted = _Targets.objects.filter(assignment=OuterRef("pk"), organization__path__in=paths)
    return (
        Assignment.objects.filter(Exists(targeted))
        .filter(
            start_date__lte=today,
            due_date__gte=today - datetime.timedelta(days=SHOWN_DAYS_AFTER_DUE),
        )
        .select_related("page")
    )


def member_completed_lessons(
    member: Member, lesson_ids: Iterable[int]
) -> dict[int, datetime.datetime | None]:
    """Every lesson of ``lesson_ids`` the member has opened, with its completion time."""
    return dict(
        LessonProgress.objects.filter(member=member, lesson_id__in=list(lesson_ids)).values_list(
            "lesson_id", "completed_at"
        )
    )


def member_assignments(
    member: Member, *, today: datetime.date | None = None
) -> list[MemberAssignment]:
    """The member's current assignments with progress: unfinished first, soonest due first.

    A fixed handful of queries whatever the number of assignments and lessons.
    """
    today = today or timezone.localdate()
    assignments = list(assignments_for_member(member, today=today))
    if not assignments:
        return []
    lessons = lessons_by_page(assignment.page for assignment in assignments)
    completed = member_completed_lessons(
        member, {lesson.pk for pages in lessons.values() for lesson in pages}
    )
    rows = []
    for assignment in assignments:
        assigned_lessons = lessons.get(assignment.page_id, [])
        completion = completion_from(
            lesson_ids=[lesson.pk for lesson in assigned_lessons], completed=completed
        )
        next_lesson = next(
            (lesson for lesson in assigned_lessons if not completed.get(lesson.pk)), None
        )
        rows.append(
            MemberAssignment(
                assignment=assignment,
                completion=completion,
                status=completion_status(completion, assignment.due_date),
                today=today,
                next_lesson=next_lesson,
                lesson_ids=tuple(lesson.pk for lesson in assigned_lessons),
            )
        )
    rows.sort(key=lambda row: (row.is_finished, row.due_date, not row.assignment.is_required))
    return rows
