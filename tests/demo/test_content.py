"""Demo study content: six courses, thirty lessons and forty policy documents, seeded once."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from modelsearch.backends import get_search_backend
from wagtail.documents import get_document_model
from wagtail.models import Page, ReferenceIndex, Revision

from cms.models import (
    CourseCategory,
    CourseIndexPage,
    CoursePage,
    DocumentText,
    LessonPage,
    PolicyCategory,
    PolicyDocumentPage,
    PolicyIndexPage,
)
from demo import content_data
from demo.content import ContentSummary, demo_content_seed
from demo.files import COLLECTION_NAME, DEMO_FILES

LESSON_LENGTH = range(1200, 2500 + 1)
DOCUMENT_LENGTH = range(600, 1500 + 1)
DOCUMENT_NUMBER = re.compile(r"^青机(党发|党办|组发|宣发|纪发)〔20\d\d〕[1-9]\d*号$")
SECTION_NUMBER = re.compile(r"^[一二三四五六七八九十]+、")


@pytest.fixture(scope="module")
def seed_summary(django_db_setup: None, django_db_blocker) -> Iterator[ContentSummary]:
    """Seed once for the module, inside a transaction rolled back after its last test.

    Each test's own ``db`` transaction nests inside this one as a savepoint.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_content_seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seed_summary: ContentSummary, db: None) -> ContentSummary:
    return seed_summary


def rendered_text(body: object) -> str:
    """What a reader sees: the body rendered with its block templates, without tags."""
    return html.unescape(strip_tags(str(body)))


def rendered_length(body: object) -> int:
    """Characters a reader sees, whitespace not counted."""
    return len(re.sub(r"\s", "", rendered_text(body)))


def block_types(page: LessonPage | PolicyDocumentPage) -> list[str]:
    return [block.block_type for block in page.body]


def listed_titles(response) -> list[str]:
    return re.findall(r'class="doc-list__title"[^>]*>([^<]+)<', response.content.decode())


# --- The texts themselves (no database) --------------------------------------------


def test_slugs_and_titles_are_unique() -> None:
    courses = content_data.COURSES
    lessons = [lesson for course in courses for lesson in course.lessons]
    documents = content_data.POLICY_DOCUMENTS
    for items in (courses, lessons, documents):
        assert len({item.slug for item in items}) == len(items)
        assert len({item.title for item in items}) == len(items)
    assert len({document.document_number for document in documents}) == len(documents)
    for slug in [item.slug for item in (*courses, *lessons, *documents)]:
        assert re.fullmatch(r"[a-z0-9-]+", slug), slug


def test_no_paragraph_is_used_twice() -> None:
    bodies = [lesson.body for course in content_data.COURSES for lesson in course.lessons]
    bodies += [document.body for document in content_data.POLICY_DOCUMENTS]
    paragraphs = Counter(
        block.text
        for body in bodies
        for block in body
        if isinstance(block, content_data.Paragraph) and len(block.text) > 30
    )
    assert [text for text, count in paragraphs.items() if count > 1] == []


def test_courses_have_the_fields_an_editor_would_fill_in() -> None:
    assert 5 <= len(content_data.COURSES) <= 7
    for course in content_data.COURSES:
        assert 80 <= len(course.summary) <= 150, course.title
        assert course.category in content_data.COURSE_CATEGORIES
        assert 2 <= len(course.tags) <= 4
        assert 4 <= len(course.lessons) <= 6
        for lesson in course.lessons:
            assert 10 <= lesson.estimated_minutes <= 25, lesson.title
            assert 3 <= lesson.min_study_minutes <= 8, lesson.title


def test_documents_come_from_a_few_bodies_over_five_years() -> None:
    documents = content_data.POLICY_DOCUMENTS
    assert len(documents) == 40
    assert 3 <= len({document.issuer for document in documents}) <= 5
    assert {document.issue_date.year for document in documents} == set(range(2022, 2027))
    assert {document.category for document in documents} == set(content_data.POLICY_CATEGORIES)
    for document in documents:
        assert document.year == document.issue_date.year
        if document.effective_date:
            assert document.effective_date >= document.issue_date
        # A document no longer in force as issued says what replaced it.
        assert bool(document.status_note) == (document.status != "effective")


# --- Seeding -----------------------------------------------------------------------


def test_first_run_creates_the_whole_set(seeded: ContentSummary) -> None:
    assert seeded == ContentSummary(
        index_pages=2,
        course_categories=len(content_data.COURSE_CATEGORIES),
        policy_categories=len(content_data.POLICY_CATEGORIES),
        courses=6,
        lessons=30,
        documents=40,
        files=len(DEMO_FILES),
    )


def test_creates_about_six_courses_with_thirty_lessons(seeded: ContentSummary) -> None:
    index = CourseIndexPage.objects.get()
    assert (index.title, index.slug) == ("课程", "courses")
    courses = list(CoursePage.objects.child_of(index))
    assert 5 <= len(courses) <= 7
    assert LessonPage.objects.descendant_of(index).count() == 30
    for course in courses:
        assert 4 <= LessonPage.objects.child_of(course).count() <= 6
        assert course.category is not None
        assert 2 <= course.tags.count() <= 4
        assert course.completion_points == 5
    assert set(CourseCategory.objects.values_list("name", flat=True)) >= {
        "党史学习",
        "理论学习",
        "党规党纪",
        "组织建设",
    }


def test_creates_forty_policy_documents(seeded: ContentSummary) -> None:
    index = PolicyIndexPage.objects.get()
    assert (index.title, index.slug) == ("政策文件", "policies")
    assert PolicyDocumentPage.objects.child_of(index).count() == 40
    assert set(PolicyCategory.objects.values_list("name", flat=True)) >= {
        "通知",
        "实施意见",
        "工作方案",
        "制度规定",
    }


def test_every_page_is_live_with_a_published_revision(seeded: ContentSummary) -> None:
    now = timezone.now()
    models = (CourseIndexPage, PolicyIndexPage, CoursePage, LessonPage, PolicyDocumentPage)
    pages = [page for model in models for page in model.objects.all()]
    assert len(pages) == 78
    for page in pages:
        assert page.live, page.slug
        assert not page.has_unpublished_changes, page.slug
        assert page.live_revision_id is not None, page.slug
        assert page.live_revision_id == page.latest_revision_id, page.slug
        assert page.first_published_at is not None and page.first_published_at <= now
    assert Revision.page_revisions.filter(object_id__in=[str(p.pk) for p in pages]).count() == 78


def test_lessons_read_like_real_lessons(seeded: ContentSummary) -> None:
    for lesson in LessonPage.objects.all():
        assert rendered_length(lesson.body) in LESSON_LENGTH, lesson.title
        types = block_types(lesson)
        assert 2 <= types.count("heading") <= 4, lesson.title
        assert types.count("key_points") == 1, lesson.title
        paragraphs = sum(
            str(block.value).count("<p>")
            for block in lesson.body
            if block.block_type == "rich_text"
        )
        assert paragraphs >= 5, lesson.title
    all_types = Counter(t for lesson in LessonPage.objects.all() for t in block_types(lesson))
    assert all_types["quote"] >= 5
    assert all_types["callout"] >= 5
    assert "image" not in all_types and "attachment" not in all_types


def test_documents_carry_number_body_and_a_past_issue_date(seeded: ContentSummary) -> None:
    today = timezone.localdate()
    documents = list(PolicyDocumentPage.objects.select_related("category"))
    for document in documents:
        assert DOCUMENT_NUMBER.match(document.document_number), document.document_number
        assert document.issuing_body, document.title
        assert document.issue_date <= today
        assert document.category is not None
        assert rendered_length(document.body) in DOCUMENT_LENGTH, document.title
        headings = [block.value["text"] for block in document.body if block.block_type == "heading"]
        assert len(headings) >= 3, document.title
        assert all(SECTION_NUMBER.match(heading) for heading in headings), headings
    assert 3 <= len({document.issuing_body for document in documents}) <= 5
    statuses = Counter(document.status for document in documents)
    assert statuses["effective"] >= 30
    assert statuses["amended"] >= 1 and statuses["repealed"] >= 1


def test_categories_are_recorded_in_the_reference_index(seeded: ContentSummary) -> None:
    # The seed defers reference indexing to one pass at the end; it must still happen.
    for category in (CourseCategory.objects.get(name="党史学习"), PolicyCategory.objects.first()):
        assert ReferenceIndex.get_references_to(category).exists()


def test_second_run_creates_nothing(seeded: ContentSummary) -> None:
    def snapshot() -> dict[str, int]:
        return {
            "pages": Page.objects.count(),
            "revisions": Revision.objects.count(),
            "course_categories": CourseCategory.objects.count(),
            "policy_categories": PolicyCategory.objects.count(),
            "files": get_document_model().objects.count(),
            "texts": list(DocumentText.objects.values_list("pk", "extracted_at")),
        }

    before = snapshot()
    assert demo_content_seed() == ContentSummary()
    assert snapshot() == before


def test_a_missing_page_is_put_back_and_nothing_else(seeded: ContentSummary) -> None:
    LessonPage.objects.get(slug="lesson-3-2").delete()
    PolicyDocumentPage.objects.get(slug="policy-2024-committee-07").delete()
    assert demo_content_seed() == ContentSummary(lessons=1, documents=1)
    assert LessonPage.objects.count() == 30
    assert PolicyDocumentPage.objects.count() == 40


def test_a_page_seeded_without_its_file_gets_it_and_nothing_else(seeded: ContentSummary) -> None:
    page = PolicyDocumentPage.objects.get(slug="policy-2022-office-05")
    document = page.original_file
    page.original_file = None
    page.save_revision().publish()
    document.delete()
    assert demo_content_seed() == ContentSummary(files=1)
    page.refresh_from_db()
    assert page.original_file is not None and page.original_file.pk != document.pk
    assert not page.has_unpublished_changes
    assert demo_content_seed() == ContentSummary()


# --- Original files ----------------------------------------------------------------


def test_two_documents_have_their_original_pdf_in_the_demo_collection(
    seeded: ContentSummary,
) -> None:
    with_files = PolicyDocumentPage.objects.filter(original_file__isnull=False)
    assert sorted(with_files.values_list("slug", flat=True)) == sorted(
        demo_file.page_slug for demo_file in DEMO_FILES
    )
    for demo_file in DEMO_FILES:
        document = with_files.get(slug=demo_file.page_slug).original_file
        assert document.title == demo_file.title
        assert document.collection.name == COLLECTION_NAME
        assert document.file_extension == "pdf"
        assert document.file_size == demo_file.path.stat().st_size < 150 * 1024
        assert ReferenceIndex.get_references_to(document).exists()
        text = document.extracted_text
        assert text.status == DocumentText.Status.EXTRACTED and not text.truncated
        # The whole document as issued is in the PDF, and its annex after it.
        page = with_files.get(slug=demo_file.page_slug)
        assert page.title in text.text and page.document_number in text.text


@pytest.mark.parametrize(
    ("slug", "query"),
    [("policy-2025-organisation-02", "佐证材料"), ("policy-2022-office-05", "住房公积金")],
)
def test_a_word_only_in_the_attached_pdf_finds_its_page(
    seeded: ContentSummary, slug: str, query: str
) -> None:
    pages = PolicyDocumentPage.objects.all()
    assert not [page.slug for page in pages if query in rendered_text(page.body)]
    get_search_backend().sync(Page, list(pages.values_list("pk", flat=True)))
    assert [page.slug for page in Page.objects.live().search(query)] == [slug]


# --- Pages over the demo data ------------------------------------------------------


def test_policy_index_filters_by_year_and_body(client, seeded: ContentSummary) -> None:
    url = PolicyIndexPage.objects.get().url
    documents = PolicyDocumentPage.objects.all()

    in_2024 = client.get(url, {"year": "2024"})
    assert in_2024.status_code == 200
    assert sorted(listed_titles(in_2024)) == sorted(
        documents.filter(issue_date__year=2024).values_list("title", flat=True)
    )

    body = "青禾新区机关纪工委"
    by_body = client.get(url, {"body": body})
    assert sorted(listed_titles(by_body)) == sorted(
        documents.filter(issuing_body=body).values_list("title", flat=True)
    )
    assert 3 <= len(listed_titles(by_body)) < 20

    both = client.get(url, {"year": "2024", "body": body})
    assert sorted(listed_titles(both)) == sorted(
        documents.filter(issue_date__year=2024, issuing_body=body).values_list("title", flat=True)
    )


def test_course_lesson_and_policy_pages_render(
    client, seeded: ContentSummary, django_assert_max_num_queries
) -> None:
    course = CoursePage.objects.get(slug="course-1")
    response = client.get(course.url)
    assert response.status_code == 200
    assert "开天辟地" in response.content.decode()

    lesson = LessonPage.objects.get(slug="lesson-1-3")
    with django_assert_max_num_queries(25):
        response = client.get(lesson.url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "遵义会议" in page and "学习要点" in page

    with django_assert_max_num_queries(25):
        response = client.get(PolicyIndexPage.objects.get().url)
    assert response.status_code == 200
    assert len(listed_titles(response)) == 20  # the first page of 40

    document = PolicyDocumentPage.objects.get(slug="policy-2022-committee-02")
    response = client.get(document.url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "青机党发〔2022〕2号" in page and "青机党发〔2025〕4号" in page
