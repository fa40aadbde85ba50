"""Courses and lessons as seen from ``learning``: generic Wagtail pages, never ``cms`` models.

``learning`` must not import ``cms`` (docs/design.md: dependencies run one way). The settings
``DANGJIAN_COURSE_PAGE_MODEL`` and ``DANGJIAN_LESSON_PAGE_MODEL`` name the page models
(``config`` wires the apps together); this module resolves them lazily to content types
and answers the questions assigned study and "my learning" ask: is this page a course or a
lesson, and which live lessons does it stand for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.db.models.functions import Length, Substr
from wagtail.models import Page

COURSE = "course"
LESSON = "lesson"


def course_content_type_id() -> int:
    return _content_type_id(settings.DANGJIAN_COURSE_PAGE_MODEL)


def lesson_content_type_id() -> int:
    return _content_type_id(settings.DANGJIAN_LESSON_PAGE_MODEL)


def _content_type_id(model_name: str) -> int:
    # ContentType's manager caches per process, so this is a query only the first time.
    return ContentType.objects.get_for_model(apps.get_model(model_name)).pk


def study_page_kind(page: Page) -> str | None:
    """``"course"``, ``"lesson"``, or None for any other kind of page."""
    if page.content_type_id == course_content_type_id():
        return COURSE
    if page.content_type_id == lesson_content_type_id():
        return LESSON
    return None


def study_page_type_names() -> list[str]:
    """The page models an assignment may point at, for the admin page chooser."""
    return [settings.DANGJIAN_COURSE_PAGE_MODEL, settings.DANGJIAN_LESSON_PAGE_MODEL]


def parent_path(page: Page) -> str:
    return page.path[: -Page.steplen]


def live_lessons(parent_paths: Iterable[str] = (), lesson_ids: Iterable[int] = ()) -> QuerySet:
    """Live, public lesson pages that are children of ``parent_paths`` or in ``lesson_ids``.

    One query (plus Wagtail's one for view restrictions), however many courses.
    """
    parent_paths = list(parent_paths)
    lesson_ids = list(lesson_ids)
    if not parent_paths and not lesson_ids:
        return Page.objects.none()
    return (
        Page.objects.live()
        .public()
        .filter(content_type_id=lesson_content_type_id())
        .annotate(parent_path=Substr("path", 1, Length("path") - Page.steplen))
        .filter(Q(pk__in=lesson_ids) | Q(parent_path__in=parent_paths))
    )


def lessons_by_page(pages: Iterable[Page]) -> dict[int, list[Page]]:
    """For each course or lesson page, the live lessons completing it means completing.

    A course stands for its live, public lessons in tree order; a lesson for itself while
    it is live and public; any other page for nothing.
    """
    pages = list(pages)
    courses = [page for page in pages if study_page_kind(page) == COURSE]
    lesson_targets = [page.pk for page in pages if study_page_kind(page) == LESSON]
    by_page: dict[int, list[Page]] = {page.pk: [] for page in pages}
    if not courses and not lesson_targets:
        return by_page
    lessons = list(
        live_lessons(
            parent_paths={course.path for course in courses}, lesson_ids=lesson_targets
        ).order_by("path")
    )
    children: dict[str, list[Page]] = defaultdict(list)
    lessons_by_id = {}
    for lesson in lessons:
        children[parent_path(lesson)].append(lesson)
        lessons_by_id[lesson.pk] = lesson
    for page in pages:
        if page.pk in lessons_by_id and study_page_kind(page) == LESSON:
            by_page[page.pk] = [lessons_by_id[page.pk]]
        elif study_page_kind(page) == COURSE:
            by_page[page.pk] = list(children.get(page.path, []))
    return by_page


def course_index_page() -> Page | None:
    """The page that lists courses (the parent of the courses), for a "browse" link."""
    first_course = (
        Page.objects.live()
        .filter(content_type_id=course_content_type_id())
        .order_by("path")
        .values_list("path", flat=True)
        .first()
    )
    if first_course is None:
        return None
    return Page.objects.live().filter(path=first_course[: -Page.steplen]).first()
