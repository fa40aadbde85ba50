"""A lesson with a Chinese title gets a readable address, in the admin and for members.

The editor types a Chinese title; the admin's slug field (Promote tab) shows the numbered
slug the lesson will have, the saved lesson has it, and when the slug changes later a
member following the old link lands on the lesson.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from cms.models import CoursePage, LessonPage
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_journeys import log_in
from tests.browser.test_publish_and_search import admin_log_in, people
from tests.factories.pages import add_course, add_lesson

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

TITLE = "读原著学原理：深刻领会新思想的世界观和方法论"


def course_five() -> CoursePage:
    course = add_course("理论学习", slug="course-5", summary="读原著。")
    course.save_revision().publish()
    first = add_lesson(course, "第一课", "一", slug="lesson-5-1")
    first.save_revision().publish()
    return course


def open_tab_of(page: Any, field: str) -> None:
    """Click the admin tab that holds ``field`` (its id depends on the admin's language)."""
    panel = page.locator(field).evaluate("e => e.closest('[role=tabpanel]').id")
    page.locator(f"a[href='#{panel}']").click()


def test_a_chinese_title_gets_a_readable_slug_in_the_admin(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    course = course_five()
    people()
    editor = new_page(DESKTOP)
    admin_log_in(editor, "bianji")
    editor.goto(reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk]))
    editor.fill("#id_title", TITLE)
    editor.locator("#id_title").blur()
    open_tab_of(editor, "#id_slug")
    slug = editor.locator("#id_slug")
    assert slug.input_value() == "lesson-5-2"
    screenshot(editor, "desktop-1280-admin-lesson-slug")

    # An editor who clears it and types Chinese gets it numbered all the same.
    slug.fill("读原著")
    slug.blur()
    assert slug.input_value().isascii()
    open_tab_of(editor, "#id_title")
    editor.locator("#body-root .c-sf-add-button").first.click()
    editor.get_by_role("option", name="正文").click()
    body = editor.locator(".public-DraftEditor-content").first
    body.click()
    body.type("马克思主义基本原理。")
    editor.wait_for_function(
        """() => [...document.querySelectorAll("input[name^='body-']")]
            .some(input => input.value.includes("基本原理"))"""
    )
    with editor.expect_navigation():
        editor.locator("button[name='action-submit']").first.evaluate("b => b.click()")
    lesson = LessonPage.objects.get(title=TITLE)
    assert lesson.slug == "lesson-5-2"

    lesson.save_revision().publish()
    member = new_page(MOBILE)
    log_in(member, "zhanghong")
    old_address = "/courses/course-5/lesson-5-2/"
    member.goto(old_address)
    assert member.locator("h1").first.inner_text().strip() == TITLE

    lesson.refresh_from_db()
    lesson.slug = "du-yuan-zhu"
    lesson.save_revision().publish()
    member.goto(old_address)
    assert member.url.endswith("/courses/course-5/du-yuan-zhu/")
    assert member.locator("h1").first.inner_text().strip() == TITLE
    screenshot(member, "mobile-390-lesson-after-slug-change")


def test_a_number_another_editor_took_meanwhile_is_not_an_error(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    course = course_five()
    people()
    editor = new_page(DESKTOP)
    admin_log_in(editor, "bianji")
    editor.goto(reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk]))
    editor.fill("#id_title", TITLE)
    editor.locator("#id_title").blur()
    open_tab_of(editor, "#id_slug")
    assert editor.locator("#id_slug").input_value() == "lesson-5-2"
    # Another editor saves a lesson in the same course while this form is open.
    add_lesson(course, "第二课", "二", slug="lesson-5-2")
    open_tab_of(editor, "#id_title")
    editor.locator("#body-root .c-sf-add-button").first.click()
    editor.get_by_role("option", name="正文").click()
    body = editor.locator(".public-DraftEditor-content").first
    body.click()
    body.type("马克思主义基本原理。")
    editor.wait_for_function(
        """() => [...document.querySelectorAll("input[name^='body-']")]
            .some(input => input.value.includes("基本原理"))"""
    )
    with editor.expect_navigation():
        editor.locator("button[name='action-submit']").first.evaluate("b => b.click()")

    screenshot(editor, "desktop-1280-admin-lesson-saved-after-a-taken-number")
    assert editor.locator(".help-critical, .error-message").count() == 0
    assert LessonPage.objects.get(title=TITLE).slug == "lesson-5-3"
