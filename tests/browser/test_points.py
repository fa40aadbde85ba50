"""A member's points and the leaderboards on a phone (390×844)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from learning.models import Member
from learning.people import services
from learning.points.ledger import points_award
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.people import MemberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


def organisation_with_activity() -> Member:
    """某党委 with three branches of different habits; returns 张红 of 第三党支部."""
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    general = services.organization_create(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    branches = [
        services.organization_create(name=name, code=code, kind="branch", parent=general)
        for name, code in [("第一党支部", "ZB1"), ("第二党支部", "ZB2"), ("第三党支部", "ZB3")]
    ]
    me = MemberFactory(username="zhanghong", display_name="张红", organization=branches[2])
    names = ["李明", "王芳", "赵强", "刘洋", "陈静", "杨帆"]
    for index, name in enumerate(names):
        colleague = MemberFactory(
            username=f"m{index}",
            display_name=name,
            organization=branches[index % 3],
        )
        points_award(member=colleague, rule_code="exam_passed", key=f"exam:{index}")
        if index % 2:
            points_award(member=colleague, rule_code="reflection_accepted", key=f"r:{index}")
    for index in range(3):
        points_award(member=me, rule_code="lesson_completed", key=f"lesson:{index}")
    points_award(member=me, rule_code="study_time", key="time:1", quantity=2)
    points_award(member=me, rule_code="daily_quiz_correct", key="quiz:1", quantity=5)
    return me


def test_my_points_on_a_phone(new_page: NewPage, screenshot: Screenshot) -> None:
    organisation_with_activity()
    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    page.goto(reverse("learning:points"))
    assert page.get_by_test_id("points-today").inner_text() == "10"
    assert (
        page.locator(".rule", has_text="完成课时").locator(".rule__count").inner_text() == "3 / 6"
    )
    assert page.locator(".rule--done", has_text="每日答题").count() == 1
    assert page.locator(".history__row").count() == 5
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-my-points")

    page.select_option("#id_rule", label="每日答题")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert page.locator(".history__row").count() == 1
    screenshot(page, "mobile-390-my-points-filtered")


def test_leaderboards_on_a_phone(new_page: NewPage, screenshot: Screenshot) -> None:
    organisation_with_activity()
    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    page.goto(reverse("learning:leaderboards"))
    rows = page.get_by_test_id("branch-ranking").locator(".ranking__row")
    assert rows.count() == 3
    assert page.locator(".ranking__row.is-mine").first.inner_text().find("第三党支部") >= 0
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-leaderboards")
    page.get_by_role("link", name="本月").click()
    page.wait_for_load_state()
    assert "period=month" in page.url
    assert page.get_by_test_id("member-ranking").locator(".ranking__row").count() >= 1


NARROWEST_PHONE = {"width": 320, "height": 640}


@pytest.mark.parametrize(
    ("viewport", "locale", "all_time"),
    [
        (MOBILE, "zh-CN", "累计"),
        (NARROWEST_PHONE, "zh-CN", "累计"),
        (MOBILE, "en-US", "All time"),
        (NARROWEST_PHONE, "en-US", "All time"),
    ],
    ids=["390-zh", "320-zh", "390-en", "320-en"],
)
def test_every_period_tab_is_in_sight_and_big_enough_to_tap(
    new_page: NewPage,
    screenshot: Screenshot,
    viewport: dict[str, int],
    locale: str,
    all_time: str,
) -> None:
    """No tab hides past the edge of a phone (累计 did at 390 px), in Chinese or English."""
    organisation_with_activity()
    page = new_page(viewport, locale=locale)
    log_in(page, "zhanghong")
    page.goto(reverse("learning:leaderboards"))
    tabs = page.locator("nav.segmented .segmented__item")
    assert tabs.count() == 6
    nav = page.evaluate(
        """() => { const n = document.querySelector('nav.segmented');
                   return {scroll: n.scrollWidth, client: n.clientWidth}; }"""
    )
    assert nav["scroll"] <= nav["client"], nav
    for index in range(tabs.count()):
        box = tabs.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        assert box["height"] >= 44 and box["width"] >= 44, box
    assert_no_horizontal_scroll(page)
    screenshot(page, f"mobile-{viewport['width']}-leaderboard-tabs-{locale}")

    with page.expect_navigation():
        page.get_by_role("link", name=all_time, exact=True).tap()
    assert "period=all" in page.url
    assert page.locator(".segmented__item.is-current").inner_text() == all_time
