"""A member sees an assigned course on the home page and in My learning, on a phone.

Also a secretary's completion report in the admin, on a desktop.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.models import StudyDay
from learning.people import services
from tests.browser.conftest import DESKTOP, MOBILE, SMALL_MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.pages import add_course, lessons_of
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.study import assign, complete

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


def setup_study() -> dict[str, Any]:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    general = services.organization_create(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    branch = services.organization_create(
        name="第三党支部", code="ZB3", kind="branch", parent=general
    )
    member = MemberFactory(username="zhanghong", display_name="张红", organization=branch)
    secretary = secretary_of(general, "wangshuji", "王书记")
    today = timezone.localdate()
    history = add_course(
        "党史学习教育专题：中国共产党的百年奋斗历程",
        ["第一课 开天辟地", "第二课 星火燎原", "第三课 改革开放"],
        slug="history",
    )
    theory = add_course("理论学习", ["实事求是", "群众路线"], slug="theory")
    first, *_rest = lessons_of(history)
    complete(member, first, today)
    complete(member, lessons_of(theory)[0], today - datetime.timedelta(days=9))
    complete(member, lessons_of(theory)[1], today - datetime.timedelta(days=8))
    assign(
        history, [branch], today - datetime.timedelta(days=2), today + datetime.timedelta(days=2)
    )
    assign(
        lessons_of(theory)[0],
        [committee],
        today - datetime.timedelta(days=20),
        today - datetime.timedelta(days=10),
        title="十一月理论学习",
    )
    for offset, seconds in [(0, 1500), (1, 600), (8, 2400), (15, 900), (30, 300)]:
        StudyDay.objects.create(
            member=member, day=today - datetime.timedelta(days=offset), seconds=seconds
        )
    return {"member": member, "secretary": secretary, "history": history}


def test_member_sees_an_assigned_course_on_home_and_in_my_learning(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    setup_study()
    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    page.goto("/")
    tasks = page.get_by_test_id("home-tasks")
    assert tasks.is_visible()
    first_task = tasks.get_by_test_id("assignment").first
    assert "党史学习教育专题" in first_task.inner_text()
    assert "33%" in first_task.inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-home-tasks")

    page.goto(reverse("learning:learn"))
    my_tasks = page.get_by_test_id("my-tasks")
    assert "党史学习教育专题" in my_tasks.inner_text()
    assert "十一月理论学习" in my_tasks.inner_text()
    assert page.get_by_test_id("courses-completed").inner_text() == "1"
    assert "理论学习" in page.get_by_test_id("courses-completed-list").inner_text()
    weeks = page.get_by_test_id("study-weeks").locator("li")
    assert weeks.count() == 8
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-my-learning")

    # The assigned course opens at its next unfinished lesson.
    my_tasks.get_by_test_id("assignment").first.locator("a").click()
    page.wait_for_load_state()
    assert "第二课 星火燎原" in page.locator("h1").inner_text()


def test_my_learning_fits_a_small_phone(new_page: NewPage, screenshot: Screenshot) -> None:
    setup_study()
    page = new_page(SMALL_MOBILE)
    log_in(page, "zhanghong")
    page.goto(reverse("learning:learn"))
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-360-my-learning")


def test_secretary_reads_the_completion_report(new_page: NewPage, screenshot: Screenshot) -> None:
    setup_study()
    page = new_page(DESKTOP, locale="zh-CN")
    log_in(page, "wangshuji")
    page.goto(reverse("assignments:index"))
    assert "党史学习教育专题" in page.content()
    screenshot(page, "desktop-admin-assignments")
    page.goto(reverse("assignments:add"))
    offered = page.locator("input[name=organizations]")
    # Only their own general branch and what lies below it.
    assert offered.count() == 2
    screenshot(page, "desktop-admin-assignment-add")
    page.goto(reverse("assignments:report"))
    page.select_option("#id_assignment", label="党史学习教育专题：中国共产党的百年奋斗历程")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    branches = page.get_by_test_id("report-branches")
    assert "第三党支部" in branches.inner_text()
    assert "张红" in page.get_by_test_id("report-members").inner_text()
    screenshot(page, "desktop-admin-assignment-report")
