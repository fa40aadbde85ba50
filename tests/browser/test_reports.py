"""Issue 12 in the browser: a secretary sees who has not taken a quiz or finished assigned
study (desktop, 1366×768), and a member sees a held attempt as held in their history
(phone, 390×844)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.people import services
from quizzes.taking.attempts import attempt_start
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.pages import add_course, lessons_of
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz, take
from tests.factories.study import assign, complete

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]
LAPTOP = {"width": 1366, "height": 768}


def _people() -> dict[str, Any]:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    general = services.organization_create(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    other_general = services.organization_create(
        name="第二党总支", code="ZZB2", kind="general_branch", parent=committee
    )
    branches = [
        services.organization_create(name=name, code=code, kind="branch", parent=general)
        for name, code in (("第一党支部", "ZB1"), ("第二党支部", "ZB2"))
    ]
    outside = services.organization_create(
        name="第三党支部", code="ZB3", kind="branch", parent=other_general
    )

    people = {
        key: MemberFactory(username=username, display_name=name, organization=organization)
        for key, username, name, organization in (
            ("zhang", "zhanghong", "张红", branches[0]),
            ("li", "liming", "李明", branches[0]),
            ("wang", "wangfang", "王芳", branches[1]),
            ("zhao", "zhaolei", "赵磊", branches[1]),
            ("outsider", "zhouwai", "周外", outside),
        )
    }
    secretary = secretary_of(general, "wangshuji", "王书记")
    return {"committee": committee, "general": general, "secretary": secretary, **people}


def test_secretary_sees_who_has_not_taken_the_exam_or_finished_the_course(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    people = _people()
    question = question_create(single_choice(stem="党的最高领导机关是？"))
    exam = fixed_quiz(
        [question], title="党章党规考试", kind="exam", organizations=[people["committee"]]
    )
    take(exam, people["zhang"])
    take(exam, people["outsider"])
    attempt_start(quiz=exam, member=people["wang"])

    page = new_page(LAPTOP, locale="zh-CN")
    log_in(page, "wangshuji")
    page.goto(reverse("quizzes_quiz_results", args=[exam.pk]))
    not_yet = page.get_by_test_id("not-yet")
    not_yet.scroll_into_view_if_needed()
    assert not_yet.is_visible()
    names = page.get_by_test_id("not-yet-members").inner_text()
    for name in ("李明", "王芳", "赵磊", "王书记"):
        assert name in names
    assert "张红" not in names
    assert "已开始，未提交" in names
    assert "周外" not in page.content() and "第三党支部" not in page.content()
    branches = page.get_by_test_id("not-yet-branches").inner_text()
    assert "第二党支部" in branches
    screenshot(page, "desktop-1366-quiz-results-not-yet")

    today = timezone.localdate()
    course = add_course("党史学习", ["第一课", "第二课"], slug="history")
    for lesson in lessons_of(course):
        complete(people["li"], lesson, today)
    complete(people["wang"], lessons_of(course)[0], today)
    assignment = assign(course, [people["committee"]], today - datetime.timedelta(days=2), today)
    page.goto(f"{reverse('assignments:report')}?assignment={assignment.pk}")
    section = page.get_by_test_id("report-not-yet")
    section.scroll_into_view_if_needed()
    listed = page.get_by_test_id("report-not-yet-members").inner_text()
    for name in ("张红", "王芳", "赵磊", "王书记"):
        assert name in listed
    assert "李明" not in listed
    assert "周外" not in page.content()
    screenshot(page, "desktop-1366-assignment-report-not-yet")


def test_member_sees_a_held_attempt_as_held_in_their_history(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    people = _people()
    question = question_create(single_choice(stem="党的最高领导机关是？"))
    fast = fixed_quiz([question], title="每周答题：党章", min_seconds_per_question=90)
    held = take(fast, people["zhang"])
    assert held.too_fast
    normal = fixed_quiz([question], title="专项答题：党史", min_seconds_per_question=0)
    take(normal, people["zhang"])

    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    page.goto(reverse("quizzes:history"))
    rows = page.get_by_test_id("history").locator("li")
    held_row = rows.filter(has_text="每周答题：党章")
    assert held_row.get_by_test_id("attempt-held").is_visible()
    assert "待审核" in held_row.inner_text()
    assert rows.filter(has_text="专项答题：党史").get_by_test_id("attempt-held").count() == 0
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-history-held")

    # The quiz page's own record of the quiz says so too.
    page.goto(reverse("quizzes:index"))
    listed = page.get_by_test_id("open-quizzes").locator("li").filter(has_text="每周答题：党章")
    assert listed.get_by_test_id("attempt-held").is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-quizzes-held")
