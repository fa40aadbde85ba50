"""Issue 15's pages as their users meet them: a member downloads their data on a phone;
an administrator sees waiting background tasks on the admin home and erases a member."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from learning.models import Member, UnsentTask
from learning.people import roles, services
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_publish_and_search import admin_log_in
from tests.factories.people import MemberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]
LAPTOP = {"width": 1366, "height": 768}


def _people() -> tuple[Member, Member]:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    branch = services.organization_create(
        name="第一党支部", code="ZB1", kind="branch", parent=committee
    )
    member = MemberFactory(
        username="zhanghong", display_name="张红", organization=branch, phone="13900000001"
    )
    admin = MemberFactory(
        username="guanli",
        display_name="王管理",
        organization=committee,
        role_names=[roles.MEMBER, roles.ADMINISTRATOR],
    )
    return member, admin


def test_a_member_downloads_their_data_from_my_page_on_a_phone(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member, _admin = _people()
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("learning:account"))
    link = page.get_by_role("link", name="下载我的数据")
    assert link.is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "operations-my-page-download-phone")
    with page.expect_download() as download_info:
        link.click()
    data = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    text = json.dumps(data, ensure_ascii=False)
    assert "张红" in text and "13900000001" in text


def test_an_administrator_sees_waiting_tasks_and_erases_a_member(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member, admin = _people()
    UnsentTask.objects.create(
        task_name="cms.search.sync", error="ConnectionError: Error 111 connecting to redis"
    )
    page = new_page(LAPTOP)
    admin_log_in(page, admin.username)
    panel = page.locator("#unsent-tasks-section")
    assert "后台任务未能排队" in panel.inner_text()
    assert "1 个后台任务未能送入任务队列" in panel.inner_text()
    screenshot(page, "operations-admin-home-unsent-tasks-1366")

    page.goto(reverse("learning_member_erase", args=[member.pk]))
    screenshot(page, "operations-member-erase-confirm-1366")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    member.refresh_from_db()
    assert member.display_name == f"已注销成员 {member.pk}"
    assert member.phone is None
    screenshot(page, "operations-member-erased-1366")
