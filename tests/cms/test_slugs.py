"""Page slugs are readable ASCII: a Chinese title gives ``course-N`` / ``lesson-N-M``.

A slug Wagtail would have made from a Chinese title (``读原著学原理``) turns into
``%E8%AF%BB…`` in every link. Editors create lessons through the admin, whose script
leaves the slug empty or (with Unicode slugs allowed) a Chinese one; both end readable.
Changing a live page's slug leaves the old address redirecting to the new one.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from wagtail.models import Page
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.models import LessonPage, PolicyDocumentPage
from cms.slugs import next_numbered_slug
from learning.people import roles
from tests.factories.pages import add_course, add_lesson, add_policy
from tests.factories.people import MemberFactory

CHINESE_TITLE = "读原著学原理：深刻领会新思想的世界观和方法论"


@pytest.mark.parametrize(
    ("prefix", "taken", "expected"),
    [
        ("lesson-5-", [], "lesson-5-1"),
        ("lesson-5-", ["lesson-5-1", "lesson-5-2"], "lesson-5-3"),
        # After the highest number, never in a gap: a deleted lesson's number is not reused.
        ("lesson-5-", ["lesson-5-1", "lesson-5-4"], "lesson-5-5"),
        ("lesson-5-", ["lesson-5-x", "lesson-50-1", "lesson-5-2-copy"], "lesson-5-1"),
        ("course-", ["courses", "course-6", "course-06"], "course-7"),
        ("policy-2026-", ["policy-2025-07", "policy-2026-02"], "policy-2026-03"),
    ],
)
def test_next_numbered_slug_follows_the_highest_number(
    prefix: str, taken: list[str], expected: str
) -> None:
    assert next_numbered_slug(prefix, taken, width=2 if "policy" in prefix else 1) == expected


def test_a_chinese_title_gives_numbered_slugs(content) -> None:
    first = add_course(title="党史学习")
    second = add_course(title="理论学习")
    lesson = add_lesson(second, CHINESE_TITLE)
    assert (first.slug, second.slug) == ("course-1", "course-2")
    assert lesson.slug == "lesson-2-1"
    assert add_lesson(second, "第二课 实践").slug == "lesson-2-2"
    assert lesson.url.isascii()
    assert lesson.url.endswith("/courses/course-2/lesson-2-1/")


def test_an_english_title_or_a_slug_given_is_kept(content) -> None:
    course = add_course(title="Party history", slug="party-history")
    assert course.slug == "party-history"
    assert add_lesson(course, "Reading the classics").slug == "reading-the-classics"
    # Under a course not named course-N, numbered lessons are lesson-M.
    assert add_lesson(course, CHINESE_TITLE).slug == "lesson-1"


def test_a_chinese_slug_is_replaced_by_a_numbered_one(content) -> None:
    course = add_course(slug="course-5")
    lesson = add_lesson(course, CHINESE_TITLE, slug="读原著学原理")
    assert lesson.slug == "lesson-5-1"


def test_policy_documents_are_numbered_by_year(content) -> None:
    def add(title: str, issued: str) -> PolicyDocumentPage:
        return add_policy(title, issue_date=datetime.date.fromisoformat(issued))

    assert add("关于开展主题党日活动的通知", "2026-03-01").slug == "policy-2026-01"
    assert add("关于做好党费收缴工作的通知", "2026-05-10").slug == "policy-2026-02"
    assert add("学习制度", "2025-12-30").slug == "policy-2025-01"


@pytest.fixture
def editor_client(client, tree):
    editor = MemberFactory(
        username="slug_editor", organization=tree.committee, role_names=[roles.EDITOR]
    )
    client.force_login(editor)
    return client


def lesson_form(title: str, slug: str) -> dict:
    return nested_form_data(
        {
            "title": title,
            "slug": slug,
            "estimated_minutes": 15,
            "min_study_minutes": 5,
            "body": streamfield([("rich_text", rich_text("<p>正文</p>"))]),
        }
    )


@pytest.mark.parametrize(
    "slug_from_the_admin_script",
    ["", "读原著学原理深刻领会新思想的世界观和方法论"],
    ids=["empty", "unicode"],
)
def test_editor_creates_a_lesson_with_a_chinese_title_through_the_admin(
    editor_client, content, slug_from_the_admin_script: str
) -> None:
    course = add_course(slug="course-5")
    add_lesson(course, "第一课", slug="lesson-5-1")
    url = reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk])

    response = editor_client.post(url, lesson_form(CHINESE_TITLE, slug_from_the_admin_script))

    assert response.status_code == 302, response.context["form"].errors
    lesson = LessonPage.objects.get(title=CHINESE_TITLE)
    assert lesson.slug == "lesson-5-2"
    assert lesson.url_path.endswith("/courses/course-5/lesson-5-2/")
    assert lesson.url_path.isascii()


def test_a_policy_document_from_the_admin_is_numbered_by_its_year_of_issue(
    editor_client, content
) -> None:
    url = reverse("wagtailadmin_pages:add", args=["cms", "policydocumentpage", content.policies.pk])
    # Its number depends on the year of issue, not filled in yet: nothing is offered.
    assert not editor_client.get(url).context["form"].initial.get("slug")
    data = nested_form_data(
        {
            "title": "关于开展主题党日活动的通知",
            "slug": "",
            "document_number": "",
            "issuing_body": "青禾新区机关党委办公室",
            "issue_date": "2025-03-01",
            "effective_date": "",
            "status": "effective",
            "body": streamfield([]),
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    assert PolicyDocumentPage.objects.get().slug == "policy-2025-01"


def test_the_admin_offers_the_numbered_slug_on_a_new_lesson(editor_client, content) -> None:
    course = add_course(slug="course-5")
    add_lesson(course, "第一课", slug="lesson-5-1")
    response = editor_client.get(
        reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk])
    )
    assert response.context["form"].initial["slug"] == "lesson-5-2"
    assert 'value="lesson-5-2"' in response.content.decode()


def test_the_editor_may_choose_an_ascii_slug(editor_client, content) -> None:
    course = add_course(slug="course-5")
    url = reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk])
    response = editor_client.post(url, lesson_form(CHINESE_TITLE, "du-yuan-zhu"))
    assert response.status_code == 302
    assert LessonPage.objects.get(title=CHINESE_TITLE).slug == "du-yuan-zhu"


def test_a_changed_slug_leaves_the_old_address_redirecting(
    client, content, django_capture_on_commit_callbacks
) -> None:
    course = add_course(slug="course-5")
    course.save_revision().publish()
    lesson = add_lesson(course, CHINESE_TITLE)
    lesson.save_revision().publish()
    old_url = lesson.url
    assert client.get(old_url).status_code in (200, 302)  # 302: members log in first

    lesson = Page.objects.get(pk=lesson.pk).specific
    lesson.slug = "du-yuan-zhu"
    with django_capture_on_commit_callbacks(execute=True):
        lesson.save_revision().publish()

    lesson.refresh_from_db()
    assert lesson.url.endswith("/courses/course-5/du-yuan-zhu/")
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"].endswith("/courses/course-5/du-yuan-zhu/")


def test_a_course_made_in_code_without_a_title_slug_still_saves(content) -> None:
    course = add_course("！！！", summary="。")
    assert course.slug == "course-1"


def test_two_editors_adding_lessons_at_once_both_get_a_numbered_slug(
    editor_client, content
) -> None:
    # Both open the add form and are offered lesson-5-2; the other editor saves first.
    course = add_course(slug="course-5")
    add_lesson(course, "第一课", slug="lesson-5-1")
    url = reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk])
    offered = editor_client.get(url).context["form"].initial["slug"]
    assert offered == "lesson-5-2"
    add_lesson(course, "第二课", slug="lesson-5-2")

    response = editor_client.post(url, lesson_form(CHINESE_TITLE, offered))

    # The offered number was taken meanwhile: the lesson takes the next one, no error
    # about a slug the editor never typed.
    assert response.status_code == 302, response.context["form"].errors
    assert LessonPage.objects.get(title=CHINESE_TITLE).slug == "lesson-5-3"


def test_an_ascii_slug_the_editor_typed_that_a_sibling_has_is_refused(
    editor_client, content
) -> None:
    course = add_course(slug="course-5")
    add_lesson(course, "第一课", slug="du-yuan-zhu")
    url = reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk])
    response = editor_client.post(url, lesson_form(CHINESE_TITLE, "du-yuan-zhu"))
    assert response.status_code == 200
    assert "slug" in response.context["form"].errors


def test_a_renamed_lessons_old_number_is_not_given_to_a_new_lesson(
    client, content, django_capture_on_commit_callbacks
) -> None:
    # lesson-5-2 is renamed: its old address redirects to it. A new lesson numbered
    # lesson-5-2 would take that address, and links members already have would open it.
    course = add_course(slug="course-5")
    course.save_revision().publish()
    add_lesson(course, "第一课", slug="lesson-5-1").save_revision().publish()
    renamed = add_lesson(course, "第二课", slug="lesson-5-2")
    renamed.save_revision().publish()
    old_url = renamed.url
    renamed = Page.objects.get(pk=renamed.pk).specific
    renamed.slug = "du-yuan-zhu"
    with django_capture_on_commit_callbacks(execute=True):
        renamed.save_revision().publish()

    new = add_lesson(course, CHINESE_TITLE)

    assert new.slug == "lesson-5-3"
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"].endswith("/courses/course-5/du-yuan-zhu/")
