"""A member studies a lesson on a phone, completes it and sees the points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from cms.models import LessonPage
from learning.people import services
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

PARAGRAPH = (
    "一九二一年七月，中国共产党第一次全国代表大会召开，宣告了中国共产党的成立。"
    "这是近代中国社会进步和革命发展的客观要求，是开天辟地的大事变。"
)


def lesson_to_study() -> LessonPage:
    course = add_course("党史学习", slug="history")
    body = [
        ("heading", {"text": "一、开天辟地", "level": "h2"}),
        *[("rich_text", f"<p>{PARAGRAPH}</p>") for _ in range(6)],
        ("quote", {"text": "为中国人民谋幸福，为中华民族谋复兴。", "source": "初心使命"}),
        ("key_points", {"title": "学习要点", "points": ["党的成立", "初心使命"]}),
        ("callout", {"kind": "important", "text": "<p>学完本课请参加课后测验。</p>"}),
    ]
    return add_lesson(
        course, "第一课 中国共产党的成立", body=body, slug="founding", min_study_minutes=0
    )


def test_member_studies_a_lesson_to_the_end_and_earns_points(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    lesson = lesson_to_study()
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    branch = services.organization_create(
        name="第三党支部", code="ZB3", kind="branch", parent=committee
    )
    MemberFactory(username="zhanghong", display_name="张红", organization=branch)
    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    page.goto(lesson.url)
    status = page.locator("[data-study-status]").first  # the top one; the end repeats it
    assert status.is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-lesson-start")

    page.mouse.wheel(0, 20000)  # read to the end
    page.wait_for_function(
        "document.querySelector('[data-study-status]').classList.contains('is-done')",
        timeout=10_000,
    )
    assert "积分已记入" in status.inner_text()
    screenshot(page, "mobile-390-lesson-done")

    page.goto(reverse("learning:points"))
    # The lesson (1) and, as it is the course's only lesson, the course (5).
    assert page.get_by_test_id("points-today").inner_text() == "6"
    assert page.locator(".history__row", has_text="完成课时").count() == 1
    assert page.locator(".history__row", has_text="完成课程").count() == 1
