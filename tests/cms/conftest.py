"""Fixtures for content pages: a home page with a course index and a policy index."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from wagtail.models import Page

from cms.models import (
    CourseIndexPage,
    CoursePage,
    HomePage,
    LessonPage,
    PolicyIndexPage,
)


@dataclass
class Content:
    home: HomePage
    courses: CourseIndexPage
    policies: PolicyIndexPage


@pytest.fixture
def content(db: None) -> Content:
    home = HomePage.objects.get()
    courses = home.add_child(instance=CourseIndexPage(title="课程", slug="courses"))
    policies = home.add_child(instance=PolicyIndexPage(title="政策文件", slug="policies"))
    return Content(home=home, courses=courses, policies=policies)


def add_course(parent: Page, title: str = "党史学习", **fields: object) -> CoursePage:
    fields.setdefault("summary", "学习党的百年奋斗历程。")
    return parent.add_child(instance=CoursePage(title=title, **fields))


def add_lesson(
    course: CoursePage, title: str, body: list | None = None, **fields: object
) -> LessonPage:
    body = body or [("rich_text", "<p>中国共产党成立于一九二一年。</p>")]
    return course.add_child(instance=LessonPage(title=title, body=body, **fields))


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)
