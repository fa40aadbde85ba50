"""A branch secretary finds 党员 in the admin menu and their numbers on the admin home,
on a laptop (1366×768) and on a phone (390 px); an approver sees what approving did."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.people import roles, services
from learning.points.ledger import points_award
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.pages import add_course, add_draft_lesson, add_lesson
from tests.factories.people import MemberFactory, secretary_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]
LAPTOP = {"width": 1366, "height": 768}


def setup_organisations() -> None:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    general = services.organization_create(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    other = services.organization_create(
        name="第二党总支", code="ZZB2", kind="general_branch", parent=committee
    )
    branch = services.organization_create(
        name="第一党支部", code="ZB1", kind="branch", parent=general
    )
    other_branch = services.organization_create(
        name="第三党支部", code="ZB3", kind="branch", parent=other
    )
    secretary_of(general, "wangshuji", "王书记")
    zhang = MemberFactory(username="zhanghong", display_name="张红", organization=branch)
    MemberFactory(username="lisi", display_name="李四", organization=branch)
    outsider = MemberFactory(username="waibu", display_name="外支部王五", organization=other_branch)
    points_award(member=zhang, rule_code="lesson_completed", key="z", occurred_at=timezone.now())
    points_award(member=outsider, rule_code="lesson_completed", key="o", occurred_at=timezone.now())


def test_secretary_on_a_laptop_finds_members_and_the_home_panel(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    setup_organisations()
    page = new_page(LAPTOP)
    log_in(page, "wangshuji")
    page.goto(reverse("wagtailadmin_home"))
    panel = page.locator("#organisation-summary-section, [id^=organisation-summary]").first
    panel.wait_for()
    text = page.locator("main").inner_text()
    assert "本组织概况" in text and "第一党总支" in text
    assert "3 名党员" in text
    assert "本周 1 人参与学习" in text
    assert "第二党总支" not in text and "外支部王五" not in text
    menu_item = page.locator("#wagtail-sidebar").get_by_role("link", name="党员", exact=True)
    assert menu_item.is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "desktop-1366-admin-secretary-home")

    menu_item.click()
    page.wait_for_load_state()
    listing = page.locator("main").inner_text()
    assert "张红" in listing and "李四" in listing
    assert "外支部王五" not in listing
    screenshot(page, "desktop-1366-admin-secretary-members")


def test_secretary_on_a_phone_finds_members_and_the_home_panel(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    setup_organisations()
    page = new_page(MOBILE)
    log_in(page, "wangshuji")
    page.goto(reverse("wagtailadmin_home"))
    text = page.locator("main").inner_text()
    assert "本组织概况" in text and "3 名党员" in text
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-admin-secretary-home")

    # On a phone the menu sits behind its toggle.
    page.locator("#wagtail-sidebar button[aria-label]").first.click()
    menu_item = page.locator("#wagtail-sidebar").get_by_role("link", name="党员", exact=True)
    menu_item.wait_for(state="visible")
    screenshot(page, "mobile-390-admin-secretary-menu")
    menu_item.click()
    page.wait_for_load_state()
    assert "张红" in page.locator("main").inner_text()
    assert_no_horizontal_scroll(page)


def test_approver_approving_on_the_dashboard_is_told_it_was_published(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    editor = MemberFactory(
        username="bianji", display_name="编辑甲", organization=committee, role_names=[roles.EDITOR]
    )
    MemberFactory(
        username="shenhe",
        display_name="审核乙",
        organization=committee,
        role_names=[roles.APPROVER],
    )
    lesson = add_draft_lesson(add_course(), "待审课时", by=editor, submit=True)

    page = new_page(LAPTOP)
    log_in(page, "shenhe")
    page.goto(reverse("wagtailadmin_home"))
    # The review list's column headings (read by screen readers) are Chinese too.
    content = page.content()
    assert "隐私与访问权限" in content and "Privacy and access" not in content
    row = page.locator("tr", has_text="待审课时")
    row.get_by_role("button", name="操作").click()
    row.get_by_role("button", name="批准", exact=True).click()
    page.wait_for_load_state()
    message = page.locator(".messages")
    message.wait_for()
    assert "“待审课时”已批准并发布。" in message.inner_text()
    screenshot(page, "desktop-1366-admin-approved-from-dashboard")
    lesson.refresh_from_db()
    assert lesson.live


def test_editor_reads_the_explorer_and_the_editor_in_chinese(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    MemberFactory(
        username="bianji", display_name="编辑甲", organization=committee, role_names=[roles.EDITOR]
    )
    course = add_course()
    lesson = add_lesson(course, "第一课")

    page = new_page(LAPTOP)
    log_in(page, "bianji")
    page.goto(reverse("wagtailadmin_home"))
    sidebar = page.locator("#wagtail-sidebar")
    assert sidebar.get_by_role("button", name="页面").is_visible()
    assert "分页" not in sidebar.inner_text()
    sidebar.get_by_role("button", name="帮助").click()
    assert sidebar.get_by_role("button", name="快捷键").is_visible()
    assert "常用入口" not in sidebar.inner_text()
    page.goto(reverse("wagtailadmin_explore", args=[course.pk]))
    main = page.locator("main").inner_text()
    assert "浏览" in page.title() and "Exploring" not in page.title()
    assert "党史学习" in main and "Referenced" not in page.content()
    screenshot(page, "desktop-1366-admin-explorer")
    page.locator("button[data-side-panel-toggle='status']").click()
    page.locator("[data-side-panel='status']").wait_for()
    assert "Referenced" not in page.content()
    screenshot(page, "desktop-1366-admin-explorer-status")
    page.goto(reverse("wagtailadmin_pages:edit", args=[lesson.pk]))
    page.get_by_role("button", name="状态").first.click()
    content = page.content()
    assert "Referenced" not in content and "被引用 0 次" in content
    screenshot(page, "desktop-1366-admin-page-status")
