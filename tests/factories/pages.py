"""Content pages: the home page's course and policy indexes, courses, lessons, policy documents.

Each index is added under the home page the first time it is needed (there is one of each),
and every course and policy document goes under its index. Pages are added live, with the
slugs the product gives them (see ``cms.slugs``) unless a test passes one.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from cms.models import (
    CourseIndexPage,
    CoursePage,
    HomePage,
    LessonPage,
    PolicyDocumentPage,
    PolicyIndexPage,
)
from learning.models import Member

LESSON_TEXT = "中国共产党成立于一九二一年。"
POLICY_TEXT = "现印发给你们，请认真组织实施。"
IndexPage = TypeVar("IndexPage", CourseIndexPage, PolicyIndexPage)


@dataclass
class Content:
    home: HomePage
    courses: CourseIndexPage
    policies: PolicyIndexPage


def _section_index(model: type[IndexPage], title: str, slug: str) -> IndexPage:
    """The one page of ``model``, added under the home page if there is none yet."""
    existing = model.objects.first()
    if existing:
        return existing
    return HomePage.objects.get().add_child(instance=model(title=title, slug=slug))


def course_index() -> CourseIndexPage:
    """The course index (课程, /courses/)."""
    return _section_index(CourseIndexPage, "课程", "courses")


def policy_index() -> PolicyIndexPage:
    """The policy index (政策文件, /policies/)."""
    return _section_index(PolicyIndexPage, "政策文件", "policies")


def site_content() -> Content:
    """The home page with its two indexes."""
    return Content(home=HomePage.objects.get(), courses=course_index(), policies=policy_index())


def add_course(title: str = "党史学习", lessons: Sequence[str] = (), **fields: Any) -> CoursePage:
    """A live course under the course index, with a live lesson for each title in ``lessons``."""
    fields.setdefault("summary", "学习党的百年奋斗历程。")
    course = course_index().add_child(instance=CoursePage(title=title, **fields))
    for lesson_title in lessons:
        add_lesson(course, lesson_title)
    return course


def add_lesson(
    course: CoursePage,
    title: str,
    text: str = LESSON_TEXT,
    *,
    body: list[Any] | None = None,
    **fields: Any,
) -> LessonPage:
    """A live lesson at the end of ``course``: one paragraph of ``text``, or ``body``'s blocks."""
    if body is None:
        body = [("rich_text", f"<p>{text}</p>")]
    return course.add_child(instance=LessonPage(title=title, body=body, **fields))


def add_draft_lesson(
    course: CoursePage, title: str, *, by: Member, submit: bool = False
) -> LessonPage:
    """A lesson that is not live, with a draft by ``by``; ``submit`` sends it for approval."""
    lesson = add_lesson(course, title)
    lesson.unpublish()
    lesson.save_revision(user=by)
    if submit:
        lesson.get_workflow().start(lesson, by)
        lesson.refresh_from_db()
    return lesson


def lessons_of(course: CoursePage) -> list[LessonPage]:
    """The course's lessons in their order."""
    return list(LessonPage.objects.child_of(course).order_by("path"))


def add_policy(title: str, text: str | None = POLICY_TEXT, **fields: Any) -> PolicyDocumentPage:
    """A live policy document under the policy index, its text one paragraph (none for ``None``)."""
    fields.setdefault("issuing_body", "青禾新区机关党委组织部")
    fields.setdefault("issue_date", datetime.date(2025, 4, 8))
    if text is not None:
        fields.setdefault("body", [("rich_text", f"<p>{text}</p>")])
    return policy_index().add_child(instance=PolicyDocumentPage(title=title, **fields))
