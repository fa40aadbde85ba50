"""A secretary reviews an integrity flag on a laptop (1366×768) and confirms it; the member
then sees the reversed points with the reason on *My points*, on a phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from learning.models import IntegrityFlag, PointsEntry
from learning.people import services
from quizzes.models import Attempt
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz, take

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]
LAPTOP = {"width": 1366, "height": 768}
REASON = "经与本人核实，答卷由他人代答。"


def _two_members_hand_in_the_same_answers() -> Attempt:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    general = services.organization_create(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    branch = services.organization_create(
        name="第一党支部", code="ZB1", kind="branch", parent=general
    )
    secretary_of(general, "wangshuji", "王书记")
    zhang = MemberFactory(username="zhanghong", display_name="张红", organization=branch)
    li = MemberFactory(username="lisi", display_name="李四", organization=branch)
    questions = [
        question_create(single_choice(stem=f"第{number}题：党的根本宗旨是什么？"))
        for number in range(6)
    ]
    quiz = fixed_quiz(questions, title="党的宗旨专项测验")
    pattern = [True] * 3 + [False] * 3
    first = take(quiz, zhang, right=pattern)
    take(quiz, li, right=pattern)
    assert first.points > 0
    return first


def test_a_secretary_confirms_a_flag_and_the_member_sees_the_reason(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    first = _two_members_hand_in_the_same_answers()
    page = new_page(LAPTOP)
    log_in(page, "wangshuji")
    page.goto(reverse("wagtailadmin_home"))
    summary = page.get_by_test_id("summary-flags")
    assert "2 条学习诚信提示待审核" in summary.inner_text()
    screenshot(page, "desktop-1366-admin-home-integrity-count")
    page.locator("#wagtail-sidebar").get_by_role("link", name="学习诚信审核").click()
    page.get_by_test_id("flag-list").wait_for()
    assert page.get_by_test_id("flag-row").count() == 2
    assert_no_horizontal_scroll(page)
    screenshot(page, "desktop-1366-admin-integrity-queue")

    member_cell = page.locator("td:nth-child(2)", has_text="张红")
    row = page.get_by_test_id("flag-row").filter(has=member_cell)
    row.get_by_role("link", name="审核").click()
    page.get_by_test_id("flag-evidence").wait_for()
    explanation = page.get_by_test_id("flag-explanation").inner_text()
    assert "与同支部的李四作答的 6 个答案相同" in explanation
    assert "相同的错误答案数" in page.get_by_test_id("flag-evidence").inner_text()
    assert "此前 90 天的作答次数" in page.get_by_test_id("flag-pattern").inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, "desktop-1366-admin-integrity-flag")

    page.get_by_role("button", name="确认：不予计入").click()
    page.wait_for_load_state()
    assert "请填写确认的原因" in page.locator("main").inner_text()
    page.get_by_label("原因（确认时必填").fill(REASON)
    page.get_by_role("button", name="确认：不予计入").click()
    page.wait_for_url("**/admin/integrity/")
    assert "已确认：相关积分不予计入。" in page.locator("body").inner_text()
    assert page.get_by_test_id("flag-row").count() == 1

    flag = IntegrityFlag.objects.get(member=first.member)
    assert flag.status == IntegrityFlag.Status.CONFIRMED
    entries = PointsEntry.objects.filter(member=first.member).order_by("pk")
    assert [entry.points for entry in entries] == [first.points, -first.points]

    phone = new_page(MOBILE)
    log_in(phone, "zhanghong")
    phone.goto(reverse("learning:points"))
    text = phone.locator("main").inner_text()
    assert REASON in text
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "integrity-reversal-my-points-phone")
    phone.goto(reverse("quizzes:result", args=[first.pk]))
    assert "已审核：你的成绩有效，但这次作答不计积分。" in phone.locator("main").inner_text()
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "integrity-reviewed-result-phone")
