"""Demo study content for ``manage.py seed_demo``: courses, lessons and policy documents.

Turns the texts in ``demo/data/`` (Markdown files with YAML front matter, read into
dataclasses by ``demo.content_data``) into published Wagtail pages under the site's home
page: the course index (课程) with six courses and their lessons, and the policy index
(政策文件) with forty documents of the demo committee. Pages are recognised by their slugs
under the two index pages, so running it again creates nothing.

Pages are published directly from a revision, as a data migration would; the moderation
workflow governs editors in the admin, not this seeding code.

Two of the documents also get their original file, a PDF beside their Markdown file
(``demo.files``), as a Wagtail document in the 示范文件 collection; its text is extracted
right away, so search finds words that appear only in the PDF.
"""

from __future__ import annotations

import datetime
import hashlib
import html
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import Collection, Page, ReferenceIndex, Site
from wagtail.signal_handlers import disable_reference_index_auto_update

from cms.extraction import document_text_extract
from cms.models import (
    CourseCategory,
    CourseIndexPage,
    CoursePage,
    HomePage,
    LessonPage,
    PolicyCategory,
    PolicyDocumentPage,
    PolicyIndexPage,
)
from demo import content_data
from demo.content_data import (
    Block,
    Callout,
    Course,
    Heading,
    KeyPoints,
    Lesson,
    Paragraph,
    PolicyDocument,
    Quote,
)
from demo.files import COLLECTION_NAME, DEMO_FILES

COMPLETION_POINTS = 5

# Pages get a first publication date that fits their story, so listings ordered by
# "newest first" read naturally: each course on its own day this year, its lessons a
# minute apart in order, a document on the working day after it was issued.
COURSE_PUBLISHED_ON = (
    datetime.date(2026, 3, 2),
    datetime.date(2026, 4, 13),
    datetime.date(2026, 5, 18),
    datetime.date(2026, 6, 22),
    datetime.date(2026, 8, 31),
    datetime.date(2026, 10, 12),
)
PUBLISHED_AT = datetime.time(9, 30)
INDEX_PUBLISHED_ON = datetime.date(2022, 1, 4)
SATURDAY = 5


class DemoContentError(Exception):
    """The demo content cannot be placed without touching somebody's own pages."""


@dataclass(frozen=True)
class ContentSummary:
    """What one run created; all zero when the demo content was already there."""

    index_pages: int = 0
    course_categories: int = 0
    policy_categories: int = 0
    courses: int = 0
    lessons: int = 0
    documents: int = 0
    files: int = 0  # original files (Wagtail documents) uploaded

    @property
    def pages(self) -> int:
        return self.index_pages + self.courses + self.lessons + self.documents


def demo_content_seed() -> ContentSummary:
    """Create and publish the demo courses, lessons and policy documents (once)."""
    with transaction.atomic():
        summary, new_pages = _content_create()
        # Reference-indexed once each here, not on each of their saves.
        for page in new_pages:
            ReferenceIndex.create_or_update_for_object(page)
    return summary


def _content_create() -> tuple[ContentSummary, list[Page]]:
    # Every save would otherwise run its own reference-index update inline, three or
    # more per page; the caller indexes the new pages once at the end instead.
    with disable_reference_index_auto_update():
        home = _home_page()
        course_index, new_course_index = _index_page(
            home,
            CourseIndexPage,
            title=content_data.COURSE_INDEX_TITLE,
            slug=content_data.COURSE_INDEX_SLUG,
            intro=content_data.COURSE_INDEX_INTRO,
            intro_en=content_data.COURSE_INDEX_INTRO_EN,
        )
        policy_index, new_policy_index = _index_page(
            home,
            PolicyIndexPage,
            title=content_data.POLICY_INDEX_TITLE,
            slug=content_data.POLICY_INDEX_SLUG,
            intro=content_data.POLICY_INDEX_INTRO,
            intro_en=content_data.POLICY_INDEX_INTRO_EN,
        )
        course_categories, new_course_categories = _categories(
            CourseCategory, content_data.COURSE_CATEGORIES
        )
        policy_categories, new_policy_categories = _categories(
            PolicyCategory, content_data.POLICY_CATEGORIES
        )
        new_courses, new_lessons = _courses_create(course_index, course_categories)
        files, new_files = _files_upload()
        new_documents, files_attached = _documents_create(policy_index, policy_categories, files)
    new_indexes = [page for page in (new_course_index, new_policy_index) if page is not None]
    summary = ContentSummary(
        index_pages=len(new_indexes),
        course_categories=new_course_categories,
        policy_categories=new_policy_categories,
        courses=len(new_courses),
        lessons=len(new_lessons),
        documents=len(new_documents),
        files=new_files,
    )
    changed = [*new_indexes, *new_courses, *new_lessons, *new_documents, *files_attached]
    return summary, changed


# --- Placement ---------------------------------------------------------------------


def _home_page() -> HomePage:
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    root = site.root_page.specific if site is not None else None
    if isinstance(root, HomePage):
        return root
    home = HomePage.objects.order_by("path").first()
    if home is None:
        raise DemoContentError("There is no home page to put the demo content under.")
    return home


def _index_page(
    home: HomePage, model: type[Page], *, title: str, slug: str, intro: str, intro_en: str
) -> tuple[Page, Page | None]:
    """The site's one index page of ``model`` (there may be only one), and whether it is new."""
    existing = model.objects.order_by("path").first()
    if existing is not None:
        return existing, None
    if home.get_children().filter(slug=slug).exists():
        raise DemoContentError(f"A page with the slug “{slug}” is in the way of the {title} index.")
    page = model(title=title, slug=slug, intro=intro, intro_en=intro_en)
    page = _publish_new(home, page, published_on=INDEX_PUBLISHED_ON)
    return page, page


def _categories(model: type[Any], names: tuple[str, ...]) -> tuple[dict[str, Any], int]:
    """Categories by name; missing ones are created after the ones already there."""
    by_name = {category.name: category for category in model.objects.filter(name__in=names)}
    missing = [name for name in names if name not in by_name]
    for order, name in enumerate(missing, start=len(by_name) + 1):
        by_name[name] = model.objects.create(name=name, sort_order=order)
    return by_name, len(missing)


def _children_by_slug(parent: Page) -> dict[str, Page]:
    return {page.slug: page for page in parent.get_children().specific()}


def _publish_new(
    parent: Page, page: Page, *, published_on: datetime.date, minutes: int = 0
) -> Page:
    """Add ``page`` under ``parent`` and publish it from a first revision."""
    moment = datetime.datetime.combine(published_on, PUBLISHED_AT) + datetime.timedelta(
        minutes=minutes
    )
    page.first_published_at = min(timezone.make_aware(moment), timezone.now())
    parent.add_child(instance=page)  # validates the page
    page.save_revision(clean=False).publish()
    return page


# --- Courses and lessons -----------------------------------------------------------


def _courses_create(
    course_index: Page, categories: dict[str, CourseCategory]
) -> tuple[list[CoursePage], list[LessonPage]]:
    """The courses and lessons missing under ``course_index``, created and published."""
    existing_courses = _children_by_slug(course_index)
    new_courses: list[CoursePage] = []
    new_lessons: list[LessonPage] = []
    for position, course in enumerate(content_data.COURSES):
        published_on = COURSE_PUBLISHED_ON[position % len(COURSE_PUBLISHED_ON)]
        page = existing_courses.get(course.slug)
        if page is None:
            page = _course_page(course, categories[course.category])
            _publish_new(course_index, page, published_on=published_on)
            new_courses.append(page)
            existing_lessons: dict[str, Page] = {}
        else:
            existing_lessons = _children_by_slug(page)
        for number, lesson in enumerate(course.lessons, start=1):
            if lesson.slug in existing_lessons:
                continue
            lesson_page = _lesson_page(lesson)
            _publish_new(page, lesson_page, published_on=published_on, minutes=number)
            new_lessons.append(lesson_page)
    return new_courses, new_lessons


def _course_page(course: Course, category: CourseCategory) -> CoursePage:
    page = CoursePage(
        title=course.title,
        slug=course.slug,
        summary=course.summary,
        category=category,
        estimated_hours=Decimal(course.estimated_hours),
        completion_points=COMPLETION_POINTS,
    )
    page.tags.add(*course.tags)
    return page


def _lesson_page(lesson: Lesson) -> LessonPage:
    return LessonPage(
        title=lesson.title,
        slug=lesson.slug,
        estimated_minutes=lesson.estimated_minutes,
        min_study_minutes=lesson.min_study_minutes,
        body=stream_blocks(lesson.body),
    )


# --- Policy documents --------------------------------------------------------------


def _documents_create(
    policy_index: Page, categories: dict[str, PolicyCategory], files: dict[str, Any]
) -> tuple[list[PolicyDocumentPage], list[PolicyDocumentPage]]:
    """The documents missing under ``policy_index``, created and published; and the
    existing ones that were given their original file."""
    existing = _children_by_slug(policy_index)
    new_documents: list[PolicyDocumentPage] = []
    # Oldest first, so the page tree and the publication dates follow the issue dates.
    for document in sorted(content_data.POLICY_DOCUMENTS, key=lambda item: item.issue_date):
        if document.slug in existing:
            continue
        page = _document_page(document, categories[document.category])
        page.original_file = files.get(document.slug)
        _publish_new(policy_index, page, published_on=_next_working_day(document.issue_date))
        new_documents.append(page)
    return new_documents, _files_attach(existing, files)


def _files_attach(existing: dict[str, Page], files: dict[str, Any]) -> list[PolicyDocumentPage]:
    """Give demo pages seeded before they had original files their file, unless an editor
    has given them another or has unpublished changes."""
    attached = []
    for slug, file in files.items():
        page = existing.get(slug)
        if not isinstance(page, PolicyDocumentPage) or page.original_file_id is not None:
            continue
        if page.has_unpublished_changes:
            continue
        page.original_file = file
        page.save_revision(clean=False).publish()
        attached.append(page)
    return attached


def _document_page(document: PolicyDocument, category: PolicyCategory) -> PolicyDocumentPage:
    return PolicyDocumentPage(
        title=document.title,
        slug=document.slug,
        document_number=document.document_number,
        issuing_body=document.issuer.name,
        issue_date=document.issue_date,
        effective_date=document.effective_date,
        status=document.status,
        category=category,
        body=stream_blocks(_document_body(document)),
    )


def _document_body(document: PolicyDocument) -> tuple[Block, ...]:
    """The text as issued, with a note on top if it is no longer in force as written,
    and the issuing body and date at the foot, where a printed document has them."""
    note: tuple[Block, ...] = ()
    if document.status_note:
        kind = "warning" if document.status == "repealed" else "important"
        note = (Callout(document.status_note, kind=kind),)
    signature = Paragraph(f"{document.issuer.name}\n{_chinese_date(document.issue_date)}")
    return (*note, *document.body, signature)


# --- Original files --------------------------------------------------------------------


def _files_upload() -> tuple[dict[str, Any], int]:
    """The demo PDFs as Wagtail documents by page slug, uploaded if missing (recognised by
    title in the 示范文件 collection), with their text extracted; and how many were new."""
    document_model = get_document_model()
    collection = _demo_collection()
    files: dict[str, Any] = {}
    uploaded = 0
    for demo_file in DEMO_FILES:
        document = document_model.objects.filter(
            collection=collection, title=demo_file.title
        ).first()
        if document is None:
            data = demo_file.path.read_bytes()
            document = document_model(title=demo_file.title, collection=collection)
            document.file.save(demo_file.filename, ContentFile(data), save=False)
            document.file_size = len(data)
            document.file_hash = hashlib.sha1(data).hexdigest()  # noqa: S324 - as Wagtail does
            document.save()
            uploaded += 1
        # Right away rather than by the queued task, so the pages are indexed with it.
        # A no-op when the file was read before.
        document_text_extract(document_id=document.pk)
        files[demo_file.page_slug] = document
    return files, uploaded


def _demo_collection() -> Collection:
    root = Collection.get_first_root_node()
    collection = root.get_children().filter(name=COLLECTION_NAME).first()
    if collection is None:
        collection = root.add_child(name=COLLECTION_NAME)
    return collection


def _chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _next_working_day(day: datetime.date) -> datetime.date:
    following = day + datetime.timedelta(days=1)
    while following.weekday() >= SATURDAY:
        following += datetime.timedelta(days=1)
    return min(following, timezone.localdate())


# --- Blocks ------------------------------------------------------------------------


def stream_blocks(blocks: tuple[Block, ...]) -> list[tuple[str, Any]]:
    """StreamField data for ``LessonStreamBlock``; consecutive paragraphs share one block."""
    stream: list[tuple[str, Any]] = []
    paragraphs: list[str] = []

    def flush() -> None:
        if paragraphs:
            stream.append(("rich_text", "".join(paragraphs)))
            paragraphs.clear()

    for block in blocks:
        if isinstance(block, Paragraph):
            lines = [html.escape(line) for line in block.text.split("\n")]
            paragraphs.append(f"<p>{'<br/>'.join(lines)}</p>")
            continue
        flush()
        if isinstance(block, Heading):
            stream.append(("heading", {"text": block.text, "level": "h2"}))
        elif isinstance(block, Quote):
            stream.append(("quote", {"text": block.text, "source": block.source}))
        elif isinstance(block, KeyPoints):
            stream.append(("key_points", {"title": block.title, "points": list(block.points)}))
        elif isinstance(block, Callout):
            text = f"<p>{html.escape(block.text)}</p>"
            stream.append(("callout", {"kind": block.kind, "text": text}))
    flush()
    return stream
