"""From the editor's draft to a member's search: moderation, indexing, search on a phone.

An editor writes a lesson in the Wagtail admin and submits it to the 内容审核 workflow
(editors cannot publish); an approver approves it, which publishes it; a member then
finds it on /search/ by a word of its text and opens it.

Index writes take the production path: queued after the publishing transaction commits,
run by the Celery task (eager in tests) in the live server's thread, which reads the page
back from the database. Nothing here writes the index directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from wagtail.models import Page

from cms.models import CoursePage, LessonPage
from learning.people import roles, services
from tests.browser.conftest import DESKTOP, SMALL_MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

# A word found in no other text of this test: the member searches for it.
WORD = "垃圾分类"
LESSON_TITLE = "第五课 社区志愿服务"
LESSON_TEXT = f"党员带头参与{WORD}志愿服务，在社区宣传绿色生活方式，做群众的贴心人。"


def course_to_write_in() -> CoursePage:
    course = add_course("党员志愿服务", slug="volunteering", summary="党员在社区。")
    course.save_revision().publish()
    return course


def people() -> None:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    branch = services.organization_create(
        name="第三党支部", code="ZB3", kind="branch", parent=committee
    )
    for username, name, role in (
        ("bianji", "李编辑", roles.EDITOR),
        ("shenhe", "王审核", roles.APPROVER),
        ("zhanghong", "张红", roles.MEMBER),
    ):
        MemberFactory(
            username=username,
            display_name=name,
            organization=branch if role == roles.MEMBER else committee,
            role_names=[role],
        )


def admin_log_in(page: Any, username: str) -> None:
    page.goto(reverse("wagtailadmin_login"))
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/admin/")


def editor_writes_and_submits(page: Any, course: CoursePage, screenshot: Screenshot) -> None:
    page.goto(reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk]))
    page.fill("#id_title", LESSON_TITLE)
    # The body is a StreamField: insert a text block and type into its rich-text editor.
    page.locator("#body-root .c-sf-add-button").first.click()
    page.get_by_role("option", name="正文").click()  # the admin speaks Chinese, like the editor
    editor = page.locator(".public-DraftEditor-content").first
    editor.click()
    editor.type(LESSON_TEXT)
    # Draftail copies its content into the block's hidden input a moment after typing;
    # submitting before that would save an empty body.
    page.wait_for_function(
        """word => [...document.querySelectorAll("input[name^='body-']")]
            .some(input => input.value.includes(word))""",
        arg=WORD,
    )
    screenshot(page, "desktop-1280-admin-lesson-draft")
    # "Submit to 内容审核" sits in the footer's dropdown, under "Save draft".
    page.locator("footer [data-w-dropdown-target='toggle']").first.click()
    # The form posts and Wagtail redirects; wait for that, not just for the current page.
    with page.expect_navigation():
        page.locator("button[name='action-submit']").click()
    screenshot(page, "desktop-1280-admin-lesson-submitted")


def approver_approves(page: Any, lesson: LessonPage, screenshot: Screenshot) -> None:
    page.goto(reverse("wagtailadmin_pages:edit", args=[lesson.pk]))
    approve = page.locator(
        "button[data-workflow-action-name='approve']:not([data-workflow-action-modal-url])"
    )
    if not approve.is_visible():
        page.locator("footer [data-w-dropdown-target='toggle']").first.click()
    screenshot(page, "desktop-1280-admin-lesson-review")
    with page.expect_navigation():
        approve.click()
    screenshot(page, "desktop-1280-admin-lesson-approved")


def test_editor_submits_approver_publishes_member_finds_it_on_a_phone(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    assert settings.WAGTAILSEARCH_BACKENDS["default"].get("WRITE_QUEUE") == "search"
    assert settings.CELERY_TASK_ALWAYS_EAGER
    course = course_to_write_in()
    people()

    editor = new_page(DESKTOP)
    admin_log_in(editor, "bianji")
    editor_writes_and_submits(editor, course, screenshot)
    lesson = LessonPage.objects.get(title=LESSON_TITLE)
    assert not lesson.live  # editors cannot publish
    assert lesson.current_workflow_state is not None

    member = new_page(SMALL_MOBILE)
    log_in(member, "zhanghong")
    member.goto(reverse("search") + f"?q={WORD}")
    assert member.get_by_text(LESSON_TITLE).count() == 0  # not before approval

    approver = new_page(DESKTOP)
    admin_log_in(approver, "shenhe")
    approver_approves(approver, lesson, screenshot)
    lesson.refresh_from_db()
    assert lesson.live

    # The member starts from the top bar's search link, as on any page.
    member.goto("/")
    member.get_by_test_id("topbar-search").click()
    member.wait_for_url("**/search/")
    screenshot(member, "mobile-360-search-empty")
    member.fill("#search-q", WORD)
    member.locator("#search-q").press("Enter")
    member.wait_for_url("**/search/?q=*")
    result = member.locator(".search-result__title", has_text=LESSON_TITLE)
    assert result.is_visible()
    assert member.locator(".search-result mark", has_text=WORD).count() >= 1
    assert_no_horizontal_scroll(member)
    screenshot(member, "mobile-360-search-results")

    result.click()
    member.wait_for_url(f"**{Page.objects.get(pk=lesson.pk).url}")
    assert member.locator("h1", has_text=LESSON_TITLE).is_visible()
    assert WORD in member.locator("article").inner_text()
    screenshot(member, "mobile-360-search-opened-lesson")


@pytest.mark.parametrize("quoted", ['"社区志愿服务"', "“社区志愿服务”"])
def test_a_member_searches_a_quoted_phrase_after_the_index_was_updated(
    new_page: NewPage, screenshot: Screenshot, quoted: str
) -> None:
    """The search page tells members to quote a phrase; it must work on a live index.

    Publishing a page again replaces its document, so the index has a segment with a
    deleted document — the state a running site is in (the quoted search once crashed
    there, though it worked on a freshly built index).
    """
    course = course_to_write_in()
    people()
    lesson = add_lesson(course, LESSON_TITLE, LESSON_TEXT, slug="lesson-5-1")
    lesson.save_revision().publish()
    lesson.title = f"{LESSON_TITLE}（修订）"
    lesson.save_revision().publish()

    member = new_page(SMALL_MOBILE)
    log_in(member, "zhanghong")
    member.goto(reverse("search"))
    member.fill("#search-q", quoted)
    member.locator("#search-q").press("Enter")
    member.wait_for_url("**/search/?q=*")

    result = member.locator(".search-result__title", has_text=LESSON_TITLE)
    assert result.is_visible(), member.content()[:2000]
    assert result.count() == 1  # the page once, not its replaced document too
    assert_no_horizontal_scroll(member)
    screenshot(member, "mobile-360-search-quoted-phrase")
