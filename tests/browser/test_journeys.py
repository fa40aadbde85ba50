"""Member and editor journeys in a real browser, on phone and desktop screen sizes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import Site

from learning.models import Member, Organization
from learning.people import roles, services
from tests.browser.conftest import DESKTOP, MOBILE, SMALL_MOBILE
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.sheets import members_xlsx

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ORGANIZATION_PATH = "某党委 › 第一党总支 › 第三党支部"

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


def branch_tree() -> Organization:
    """某党委 › 第一党总支 › 第三党支部; returns the branch."""
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    general = services.organization_create(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    return services.organization_create(
        name="第三党支部", code="ZB3", kind="branch", parent=general
    )


def member_in_branch(**overrides: Any) -> Member:
    fields = {
        "username": "zhanghong",
        "display_name": "张红",
        "organization": branch_tree(),
        **overrides,
    }
    return MemberFactory(**fields)


def log_in(page: Any, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def assert_no_horizontal_scroll(page: Any) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"{page.url} scrolls sideways: {widths}"


def nav_link(page: Any, url_name: str) -> Any:
    return page.locator(f"nav.tabbar a[href='{reverse(url_name)}']")


def test_migration_rows_survive_between_browser_tests() -> None:
    """serialized_rollback restores the roles and the Wagtail site for every test."""
    assert Group.objects.filter(name__in=roles.ALL_ROLES).count() == len(roles.ALL_ROLES)
    site = Site.objects.get(is_default_site=True)
    assert site.root_page.specific.__class__.__name__ == "HomePage"


def test_member_logs_in_on_a_phone_and_finds_their_organisation(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member_in_branch()
    page = new_page(MOBILE)

    page.goto(reverse("login"))
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-login")

    log_in(page, "zhanghong")
    assert urlsplit(page.url).path == "/"
    assert "张红" in page.locator("#greeting-title").inner_text()
    assert page.get_by_text("第三党支部").first.is_visible()
    assert_no_horizontal_scroll(page)
    home_link = page.locator("nav.tabbar a[href='/']")
    assert home_link.get_attribute("aria-current") == "page"
    # The tab bar sits at the bottom of the phone screen.
    box = page.locator("nav.tabbar").bounding_box()
    assert box is not None and abs(box["y"] + box["height"] - MOBILE["height"]) <= 1
    screenshot(page, "mobile-390-home")

    nav_link(page, "learning:account").click()
    page.wait_for_url(f"**{reverse('learning:account')}")
    assert page.get_by_text(ORGANIZATION_PATH).is_visible()
    assert nav_link(page, "learning:account").get_attribute("aria-current") == "page"
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-account")


def test_member_pages_fit_a_small_phone(new_page: NewPage, screenshot: Screenshot) -> None:
    member_in_branch(phone="13800138000")
    page = new_page(SMALL_MOBILE)

    page.goto("/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-360-welcome")

    page.goto(reverse("login"))
    assert_no_horizontal_scroll(page)

    log_in(page, "13800138000")
    assert "张红" in page.locator("#greeting-title").inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-360-home")

    pages = {
        "account": "learning:account",
        "learn": "learning:learn",
        "quiz": "quizzes:index",
        "points": "learning:points",
    }
    for name, url_name in pages.items():
        page.goto(reverse(url_name))
        assert page.locator("h1").count() == 1
        assert nav_link(page, url_name).get_attribute("aria-current") == "page"
        assert_no_horizontal_scroll(page)
        screenshot(page, f"mobile-360-{name}")
    page.goto(reverse("password_change"))
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-360-password-change")


def test_home_page_on_a_desktop(new_page: NewPage, screenshot: Screenshot) -> None:
    member_in_branch()
    page = new_page(DESKTOP)

    page.goto("/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "desktop-1280-welcome")

    log_in(page, "zhanghong")
    assert "张红" in page.locator("#greeting-title").inner_text()
    # On wide screens the tab bar sits under the top bar instead of at the bottom.
    box = page.locator("nav.tabbar").bounding_box()
    assert box is not None and box["y"] < 100
    assert_no_horizontal_scroll(page)
    screenshot(page, "desktop-1280-home")

    page.goto(reverse("learning:account"))
    screenshot(page, "desktop-1280-account")


def test_editor_logs_in_to_the_wagtail_admin(new_page: NewPage, screenshot: Screenshot) -> None:
    editor = member_in_branch(username="bianji", display_name="李编辑", role_names=[roles.EDITOR])
    assert editor.has_perm("wagtailadmin.access_admin")
    page = new_page(DESKTOP)

    page.goto("/admin/")
    page.wait_for_url("**/admin/login/**")
    page.fill("input[name=username]", "bianji")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin/")
    heading = page.locator(".w-dashboard h1")
    heading.wait_for()
    assert "智慧党建" in heading.inner_text()
    page.wait_for_load_state("networkidle")
    screenshot(page, "desktop-1280-admin-dashboard")

    page.goto("/")
    assert page.locator("main a[href='/admin/']").is_visible()
    screenshot(page, "desktop-1280-home-editor")


def test_member_link_to_admin_only_for_staff(new_page: NewPage) -> None:
    member_in_branch()
    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    assert page.locator("main a[href='/admin/']").count() == 0
    page.goto(reverse("learning:account"))
    assert page.locator("main a[href='/admin/']").count() == 0


def _upload(page: Any, content: bytes, *, dry_run: bool = False) -> None:
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "members.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": content,
            }
        ],
    )
    if dry_run:
        page.check("input[name=dry_run]")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def test_administrator_imports_members_and_sees_problems_by_row(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member_in_branch(username="guanli", display_name="管理员", role_names=[roles.ADMINISTRATOR])
    # Tall enough to show the whole form: the Wagtail admin scrolls inside its own panel.
    page = new_page({"width": DESKTOP["width"], "height": 1100})
    page.goto(reverse("wagtailadmin_login"))
    page.fill("input[name=username]", "guanli")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin/")

    page.goto(reverse("learning_member_import"))
    assert page.locator(f"a[href='{reverse('learning_member_import_template')}']").is_visible()
    screenshot(page, "desktop-1280-admin-import")

    _upload(page, members_xlsx([["liming", "李明", "12345", "ZB3"], ["", "王芳", "", "NOPE"]]))
    problems = page.locator("table.listing tbody tr")
    assert problems.count() >= 2
    assert problems.first.locator("td").first.inner_text() == "2"
    assert not Member.objects.filter(username="liming").exists()
    screenshot(page, "desktop-1280-admin-import-problems")

    _upload(page, members_xlsx([["liming", "李明", "13900139000", "ZB3"]]), dry_run=True)
    assert page.locator("table.listing").count() == 0
    assert not Member.objects.filter(username="liming").exists()

    _upload(page, members_xlsx([["liming", "李明", "13900139000", "ZB3"]]))
    assert Member.objects.filter(username="liming", must_change_password=True).exists()
    assert page.locator("main code").inner_text().strip()
    screenshot(page, "desktop-1280-admin-import-done")


def test_wrong_password_shows_an_error_and_stays_on_login(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member_in_branch()
    page = new_page(MOBILE)

    log_in(page, "zhanghong", "not-the-password")
    assert page.url.endswith(reverse("login"))
    alert = page.locator("main [role=alert]")
    assert alert.is_visible()
    assert alert.inner_text().strip()
    assert page.locator("#id_username").input_value() == "zhanghong"
    assert page.locator("nav.tabbar").count() == 0
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-login-error")


def test_imported_member_must_choose_a_password_first(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member_in_branch(must_change_password=True)
    page = new_page(MOBILE)

    log_in(page, "zhanghong")
    assert reverse("password_change") in page.url
    assert page.locator("main .alert--info").is_visible()
    assert page.locator("nav.tabbar").count() == 0
    screenshot(page, "mobile-390-password-required")

    page.fill("#id_old_password", DEFAULT_PASSWORD)
    page.fill("#id_new_password1", "Hongse-2026-new")
    page.fill("#id_new_password2", "Hongse-2026-new")
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url(f"**{reverse('learning:account')}")
    assert page.locator(".message--success").is_visible()
    assert page.get_by_text(ORGANIZATION_PATH).is_visible()


def test_language_switcher_changes_the_page_language(new_page: NewPage) -> None:
    member_in_branch()
    page = new_page(MOBILE)
    log_in(page, "zhanghong")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    page.select_option("#footer-language", "en")
    page.locator("footer form button[type=submit]").click()
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav.tabbar a[href='/'] .tabbar__label").inner_text() == "Home"
    assert page.locator("#footer-language").input_value() == "en"


def test_unknown_page_shows_a_friendly_not_found(new_page: NewPage, screenshot: Screenshot) -> None:
    member_in_branch()
    page = new_page(MOBILE)
    log_in(page, "zhanghong")

    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    assert page.locator("main h1").is_visible()
    assert page.locator("main a[href='/']").is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "mobile-390-not-found")
