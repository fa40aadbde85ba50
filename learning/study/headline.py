"""A secretary's headline numbers for their own subtree: the admin home panel's figures.

Only the organisations a secretary is assigned to, and everything below them, count
(``organizations_visible_to`` as everywhere else, narrowed to the assigned subtrees so an
administrator who is also a secretary sees their own organisation, not the platform).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from learning.common.periods import Period, period_range
from learning.models import LessonProgress, Member, MemberPeriodPoints, Organization
from learning.people.selectors import organizations_visible_to, secretary_roots, subtrees_q
from learning.study.assignments import SHOWN_DAYS_AFTER_DUE, assignments_visible_to
from learning.study.pages import lessons_by_page


@dataclass(frozen=True)
class OrganisationHeadline:
    """What a secretary reads first: how many, how many active, what is late."""

    roots: list[Organization]
    members: int
    active_this_week: int
    week_start: datetime.date
    assignments_overdue: int


def secretary_scope(user: Member) -> tuple[list[Organization], QuerySet[Organization]]:
    """The organisations ``user`` is secretary of, and those subtrees (empty if none)."""
    roots = list(secretary_roots(user))
    if not roots:
        return [], Organization.objects.none()
    return roots, organizations_visible_to(user).filter(subtrees_q(roots))


def scope_members(scope: QuerySet[Organization]) -> QuerySet[Member]:
    """The active members whose organisation is in ``scope``."""
    return Member.objects.filter(is_active=True, organization__in=scope)


def active_member_count(
    *, members: QuerySet[Member], today: datetime.date, kind: str = Period.WEEK
) -> int:
    """Members who earned points in the period of ``kind`` containing ``today``."""
    period = period_range(kind, today)
    return (
        MemberPeriodPoints.objects.filter(
            period=kind, start=period.start, points__gt=0, member__in=members
        )
        .values("member")
        .distinct()
        .count()
    )


def overdue_assignment_count(
    *, user: Member, scope: QuerySet[Organization], today: datetime.date
) -> int:
    """Required study past its due date and not completed, counted once per member.

    Assignments are those members still see in their list (due in the last
    ``SHOWN_DAYS_AFTER_DUE`` days); optional study is never overdue. A member counts for
    an assignment when their current organisation is in ``scope`` and in one of its
    targets, as in the assignment report. A fixed number of queries however many
    assignments and members: the admin home asks on every visit.
    """
    assignments = list(
        assignments_visible_to(user)
        .filter(
            is_required=True,
            start_date__lte=today,
            due_date__lt=today,
            due_date__gte=today - datetime.timedelta(days=SHOWN_DAYS_AFTER_DUE),
        )
        .select_related("page")
        .prefetch_related(Prefetch("organizations", queryset=Organization.objects.only("path")))
    )
    if not assignments:
        return 0
    lessons = lessons_by_page([assignment.page for assignment in assignments])
    members = scope_members(scope)
    completed: dict[int, set[int]] = defaultdict(set)
    for member_id, lesson_id in LessonProgress.objects.filter(
        member__in=members,
        lesson_id__in={lesson.pk for pages in lessons.values() for lesson in pages},
        completed_at__isnull=False,
    ).values_list("member_id", "lesson_id"):
        completed[member_id].add(lesson_id)
    member_paths = list(members.values_list("pk", "organization__path"))
    overdue = 0
    for assignment in assignments:
        targets = tuple(target.path for target in assignment.organizations.all())
        wanted = {lesson.pk for lesson in lessons.get(assignment.page_id, [])}
        overdue += sum(
            1
            for member_id, path in member_paths
            if path.startswith(targets) and not (wanted and wanted <= completed[member_id])
        )
    return overdue


def organisation_headline(*, user: Member, now: datetime.datetime) -> OrganisationHeadline | None:
    """The headline numbers of ``user``'s subtrees at ``now``; None for a non-secretary."""
    roots, scope = secretary_scope(user)
    if not roots:
        return None
    today = timezone.localdate(now)
    members = scope_members(scope)
    return OrganisationHeadline(
        roots=roots,
        members=members.count(),
        active_this_week=active_member_count(members=members, today=today),
        week_start=period_range(Period.WEEK, today).start,
        assignments_overdue=overdue_assignment_count(user=user, scope=scope, today=today),
    )
