"""Demo study assignments, so *My learning*, the home page's tasks and the secretaries'
completion report have something to show on a newcomer's first run.

Created once (nothing is done when the demo committee already has an assignment), through
``learning.study.assignments.assignment_create`` as an administrator and a secretary would.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from cms.models import CoursePage, LessonPage
from demo import content_data, people_data
from learning.models import Assignment, Member, Organization
from learning.study.assignments import assignment_create


def demo_assignments_seed(*, today: datetime.date | None = None) -> int:
    """Assign a demo course to the whole committee and a lesson to one general branch.

    Returns how many assignments were created (0 when they exist or the demo is missing).
    """
    today = today or timezone.localdate()
    committee = Organization.objects.filter(code=people_data.COMMITTEE_CODE).first()
    admin = Member.objects.filter(username="admin").first()
    secretary = Member.objects.filter(username="secretary").first()
    if committee is None or admin is None:
        return 0
    subtree = Organization.objects.filter(path__startswith=committee.path)
    if Assignment.objects.filter(organizations__in=subtree).exists():
        return 0
    first, second = content_data.COURSES[0], content_data.COURSES[1]
    course = CoursePage.objects.live().filter(slug=first.slug).first()
    lesson = LessonPage.objects.live().filter(slug=second.lessons[0].slug).first()
    created = 0
    if course is not None:
        assignment_create(
            created_by=admin,
            page=course,
            organizations=[committee],
            start_date=today - datetime.timedelta(days=10),
            due_date=today + datetime.timedelta(days=20),
            title=f"集中学习：{course.title}",
            note="请全体党员在截止日期前学完本课程全部课时。",
            is_required=True,
        )
        created += 1
    appointment = (
        secretary.secretary_of.select_related("organization").first() if secretary else None
    )
    general = appointment.organization if appointment else None
    if lesson is not None and general is not None:
        assignment_create(
            created_by=secretary,
            page=lesson,
            organizations=[general],
            start_date=today - datetime.timedelta(days=3),
            due_date=today + datetime.timedelta(days=4),
            title=f"支部学习：{lesson.title}",
            note="结合本支部工作实际，本周内完成学习。",
            is_required=False,
        )
        created += 1
    return created
