"""Wagtail pages: the home page, courses and lessons, policy documents.

The page tree is Home → 课程 (CourseIndexPage) → a course → its lessons, and
Home → 政策文件 (PolicyIndexPage) → policy documents. Every content page goes live
through the moderation workflow (editors submit, approvers publish).

``DocumentText`` holds the text of attached files (Wagtail documents), which lessons and
policy documents index as ``attachment_text`` (see ``cms.extraction``). ``SearchEntry``
is the PostgreSQL search backend's index (``cms.search.postgres``, docs/search.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from cms.blocks import LessonStreamBlock, attached_document_ids
from cms.slugs import ReadableSlugMixin, ReadableSlugPageForm
from learning.common.languages import english_is_active, in_active_language
from learning.common.periods import Period
from learning.models import LessonProgress
from learning.points.leaderboards import leaderboard_range
from learning.points.member_rankings import member_points_in
from learning.study.my_learning import member_today_tasks

LISTING_PAGE_SIZE = 20
NEW_CONTENT_COUNT = 5
# A word found only in an attached file counts for less than one in the page's own text.
ATTACHMENT_TEXT_BOOST = 0.5


class SectionIndexMixin:
    """The one index page of a section (courses, policy documents) in the member's language.

    Its title is what editors call the section in the platform's language; in another
    language the page is headed by the section's interface name (the one the search
    filters use), and its introduction by the English one where an editor wrote it.
    """

    section_name: Any  # a gettext_lazy string
    title: str
    intro: str
    intro_en: str

    @property
    def display_title(self) -> str:
        return str(self.section_name) if english_is_active() else self.title

    @property
    def display_intro(self) -> str:
        return in_active_language(self.intro, self.intro_en)


def _intro_en_field() -> RichTextField:
    return RichTextField(
        _("introduction in English"),
        blank=True,
        features=["bold", "italic", "link"],
        help_text=_("Shown to members who use the site in English. Empty: the introduction."),
    )


class HomePage(Page):
    """The site root: a welcome for visitors and today's overview for a member."""

    intro = RichTextField(
        _("introduction"),
        blank=True,
        features=["bold", "italic", "link"],
        help_text=_("Shown to visitors who have not logged in."),
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.CourseIndexPage", "cms.PolicyIndexPage"]
    template = "cms/home_page.html"

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["today"] = timezone.localdate()
        if request.user.is_authenticated:
            context["points_today"] = member_points_in(
                member=request.user, date_range=leaderboard_range(Period.DAY)
            )
            context["tasks"] = member_today_tasks(request.user)
            context["new_lessons"] = list(
                LessonPage.objects.live()
                .public()
                .order_by("-first_published_at")[:NEW_CONTENT_COUNT]
            )
            context["new_policies"] = list(
                PolicyDocumentPage.objects.live()
                .public()
                .order_by("-first_published_at")[:NEW_CONTENT_COUNT]
            )
        return context


# --- Categories --------------------------------------------------------------------


@register_snippet
class CourseCategory(models.Model):
    """A subject area for courses, e.g. 党史学习, 理论学习, 党规党纪."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    panels = [FieldPanel("name"), FieldPanel("sort_order")]

    class Meta:
        verbose_name = _("course category")
        verbose_name_plural = _("course categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


@register_snippet
class PolicyCategory(models.Model):
    """A kind of policy document, e.g. 党内法规, 规范性文件, 重要讲话."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    panels = [FieldPanel("name"), FieldPanel("sort_order")]

    class Meta:
        verbose_name = _("policy category")
        verbose_name_plural = _("policy categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


# --- Courses -----------------------------------------------------------------------


class CourseIndexPage(SectionIndexMixin, Page):
    """All courses, newest first, filterable by category."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])
    intro_en = _intro_en_field()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("intro_en")]
    section_name = _("Courses")
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.CoursePage"]
    max_count = 1
    template = "cms/course_index_page.html"

    class Meta:
        verbose_name = _("course index")

    def courses(self) -> QuerySet[CoursePage]:
        return (
            CoursePage.objects.child_of(self)
            .live()
            .public()
            .select_related("category", "cover_image")
            .order_by("-first_published_at")
        )

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        courses = self.courses()
        category = request.GET.get("category", "")
        if category.isdigit():
            courses = courses.filter(category_id=int(category))
        context["categories"] = CourseCategory.objects.all()
        context["selected_category"] = category
        context["page_obj"] = _paginate(courses, request)
        return context


class CourseTag(TaggedItemBase):
    content_object = ParentalKey(
        "cms.CoursePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class CoursePage(ReadableSlugMixin, Page):
    """A course: a sequence of lessons (its child pages) on one subject."""

    base_form_class = ReadableSlugPageForm

    summary = models.TextField(_("summary"), max_length=500)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(
        CourseCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="courses",
    )
    tags = ClusterTaggableManager(verbose_name=_("tags"), through=CourseTag, blank=True)
    estimated_hours = models.DecimalField(
        _("estimated hours"),
        max_digits=4,
        decimal_places=1,
        default=1,
        validators=[MinValueValidator(0)],
    )
    completion_points = models.PositiveIntegerField(
        _("completion points"),
        default=5,
        validators=[MaxValueValidator(100)],
        help_text=_("Points for completing every lesson of the course (rule 完成课程)."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldRowPanel([FieldPanel("category"), FieldPanel("estimated_hours")]),
        FieldPanel("tags"),
        FieldPanel("completion_points"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary", boost=2),
        index.RelatedFields("tags", [index.SearchField("name", boost=2)]),
        index.RelatedFields("category", [index.SearchField("name")]),
        index.FilterField("category"),
    ]
    parent_page_types = ["cms.CourseIndexPage"]
    subpage_types = ["cms.LessonPage"]
    template = "cms/course_page.html"

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def numbered_slug_prefix(self, parent: Page) -> str:
        return "course-"

    def lessons(self) -> QuerySet[LessonPage]:
        return LessonPage.objects.child_of(self).live().public().order_by("path")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["lessons"] = list(self.lessons())
        return context


class LessonPage(ReadableSlugMixin, Page):
    """One lesson of a course: what a member reads or watches in one sitting."""

    base_form_class = ReadableSlugPageForm

    body = StreamField(LessonStreamBlock(), verbose_name=_("body"))
    estimated_minutes = models.PositiveIntegerField(
        _("estimated minutes"), default=15, validators=[MinValueValidator(1)]
    )
    min_study_minutes = models.PositiveIntegerField(
        _("minimum study minutes"),
        default=5,
        validators=[MaxValueValidator(240)],
        help_text=_("Verified reading time a member needs before the lesson counts as done."),
    )
    quiz = models.ForeignKey(
        "quizzes.Quiz",
        verbose_name=_("lesson quiz"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lessons",
        limit_choices_to={"kind": "lesson"},
        help_text=_("A quiz of kind “lesson quiz” offered at the end of the lesson."),
    )

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("estimated_minutes"), FieldPanel("min_study_minutes")]),
        FieldPanel("body"),
        FieldPanel("quiz"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("body"),
        index.SearchField("attachment_text", boost=ATTACHMENT_TEXT_BOOST),
    ]
    parent_page_types = ["cms.CoursePage"]
    subpage_types: list[str] = []
    template = "cms/lesson_page.html"

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def numbered_slug_prefix(self, parent: Page) -> str:
        course_number = re.fullmatch(r"course-(\d+)", parent.slug)
        return f"lesson-{course_number.group(1)}-" if course_number else "lesson-"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        course = self.get_parent().specific
        siblings = list(LessonPage.objects.child_of(course).live().public().order_by("path"))
        position = next((i for i, lesson in enumerate(siblings) if lesson.pk == self.pk), 0)
        context["course"] = course
        context["lesson_number"] = position + 1
        context["lesson_count"] = len(siblings)
        context["previous_lesson"] = siblings[position - 1] if position > 0 else None
        context["next_lesson"] = siblings[position + 1] if position + 1 < len(siblings) else None
        if request.user.is_authenticated:
            context["progress"] = LessonProgress.objects.filter(
                member=request.user, lesson_id=self.pk
            ).first()
        return context

    def attachment_text(self) -> list[str]:
        """The extracted text of the files attached in the body, for search."""
        return DocumentText.texts_for(attached_document_ids(self.body))


# --- Policy documents --------------------------------------------------------------


class PolicyIndexPage(SectionIndexMixin, Page):
    """All policy documents, filterable by year, issuing body, category and status."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])
    intro_en = _intro_en_field()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("intro_en")]
    section_name = _("Policy documents")
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.PolicyDocumentPage"]
    max_count = 1
    template = "cms/policy_index_page.html"

    class Meta:
        verbose_name = _("policy index")

    def documents(self) -> QuerySet[PolicyDocumentPage]:
        return (
            PolicyDocumentPage.objects.child_of(self)
            .live()
            .public()
            .select_related("category")
            .order_by("-issue_date", "-pk")
        )

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        documents = self.documents()
        filters = {
            "year": request.GET.get("year", ""),
            "body": request.GET.get("body", "").strip(),
            "category": request.GET.get("category", ""),
            "status": request.GET.get("status", ""),
        }
        if filters["year"].isdigit():
            documents = documents.filter(issue_date__year=int(filters["year"]))
        if filters["body"]:
            documents = documents.filter(issuing_body=filters["body"])
        if filters["category"].isdigit():
            documents = documents.filter(category_id=int(filters["category"]))
        if filters["status"] in PolicyDocumentPage.Status.values:
            documents = documents.filter(status=filters["status"])
        all_documents = self.documents()
        context["filters"] = filters
        context["years"] = sorted(
            {day.year for day in all_documents.values_list("issue_date", flat=True)}, reverse=True
        )
        context["bodies"] = sorted(set(all_documents.values_list("issuing_body", flat=True)))
        context["categories"] = PolicyCategory.objects.all()
        context["statuses"] = PolicyDocumentPage.Status.choices
        context["page_obj"] = _paginate(documents, request)
        return context


class PolicyDocumentPage(ReadableSlugMixin, Page):
    """A policy document: its number, issuing body, dates, status, original file and text."""

    base_form_class = ReadableSlugPageForm
    slug_number_width = 2
    slug_number_known_in_advance = False

    class Status(models.TextChoices):
        EFFECTIVE = "effective", _("In force")
        AMENDED = "amended", _("Amended")
        REPEALED = "repealed", _("Repealed")

    document_number = models.CharField(
        _("document number"), max_length=80, blank=True, help_text=_("文号, e.g. 中发〔2024〕1号")
    )
    issuing_body = models.CharField(_("issuing body"), max_length=120, help_text=_("发文机关"))
    issue_date = models.DateField(_("issue date"))
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    status = models.CharField(
        pgettext_lazy("policy document", "status"),
        max_length=12,
        choices=Status.choices,
        default=Status.EFFECTIVE,
    )
    category = models.ForeignKey(
        PolicyCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    original_file = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("original file"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The document as issued (PDF or DOCX)."),
    )
    body = StreamField(LessonStreamBlock(), verbose_name=_("text"), blank=True)

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("document_number"), FieldPanel("issuing_body")]),
                FieldRowPanel([FieldPanel("issue_date"), FieldPanel("effective_date")]),
                FieldRowPanel([FieldPanel("status"), FieldPanel("category")]),
                FieldPanel("original_file"),
            ],
            heading=_("Document details"),
        ),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("document_number", boost=3),
        index.SearchField("issuing_body", boost=2),
        index.SearchField("body"),
        index.SearchField("attachment_text", boost=ATTACHMENT_TEXT_BOOST),
        index.RelatedFields("category", [index.SearchField("name")]),
        index.FilterField("issue_date"),
        index.FilterField("status"),
    ]
    parent_page_types = ["cms.PolicyIndexPage"]
    subpage_types: list[str] = []
    template = "cms/policy_document_page.html"

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")

    def numbered_slug_prefix(self, parent: Page) -> str:
        year = self.issue_date.year if self.issue_date else timezone.localdate().year
        return f"policy-{year}-"

    def attachment_text(self) -> list[str]:
        """The extracted text of the original file and of files attached in the body."""
        return DocumentText.texts_for([self.original_file_id, *attached_document_ids(self.body)])


# --- Text of attached files --------------------------------------------------------


class DocumentText(models.Model):
    """The plain text of a Wagtail document (PDF, DOCX, TXT), extracted for search.

    Written only by ``cms.extraction.document_text_extract``. ``file_hash`` is the SHA-1 of
    the file the text was taken from (Wagtail's own ``Document.file_hash`` uses the same
    hash), so a document saved again with the same file is not read again.
    """

    class Status(models.TextChoices):
        EXTRACTED = "extracted", _("Extracted")
        UNSUPPORTED = "unsupported", _("File type not supported")
        FAILED = "failed", _("Failed")

    document = models.OneToOneField(
        "wagtaildocs.Document",
        verbose_name=_("document"),
        on_delete=models.CASCADE,
        related_name="extracted_text",
    )
    file_hash = models.CharField(_("file hash"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    text = models.TextField(_("text"), blank=True)
    truncated = models.BooleanField(
        _("truncated"),
        default=False,
        help_text=_("Only the beginning of the file was read (too long or too slow to read)."),
    )
    page_count = models.PositiveIntegerField(
        pgettext_lazy("page count", "pages"), null=True, blank=True
    )
    error = models.CharField(_("error"), max_length=300, blank=True)
    extracted_at = models.DateTimeField(_("extracted at"))

    class Meta:
        verbose_name = _("document text")
        verbose_name_plural = _("document texts")

    def __str__(self) -> str:
        return f"{self.document_id}: {self.get_status_display()}"

    @classmethod
    def texts_for(cls, document_ids: Iterable[int | None]) -> list[str]:
        """The extracted texts of these documents, in the order given; none for the rest."""
        wanted = list(dict.fromkeys(pk for pk in document_ids if pk is not None))
        if not wanted:
            return []
        texts = dict(
            cls.objects.filter(document_id__in=wanted, status=cls.Status.EXTRACTED)
            .exclude(text="")
            .values_list("document_id", "text")
        )
        return [texts[pk] for pk in wanted if pk in texts]


# --- The PostgreSQL search backend's index --------------------------------------------


class TsVectorField(models.Field):
    """A PostgreSQL ``tsvector`` column, written as a tsvector literal.

    The search backend builds the literal itself from the project's own analysis (word
    positions, sub-words at their parent's position), so PostgreSQL's text search parser
    and dictionaries never see the text. On SQLite the column is plain text and unused.
    """

    description = "PostgreSQL text search vector"

    def db_type(self, connection: Any) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        return "CAST(%s AS tsvector)" if connection.vendor == "postgresql" else "%s"


class SearchEntry(models.Model):
    """One indexed object (a page, a document, an image) of the PostgreSQL search backend.

    ``root`` is the concrete root model (``wagtailcore.page`` for every page type) and
    ``object_id`` its primary key as text; filters, ordering and permissions are applied by
    the searched queryset in the database, so nothing but the words is stored here. The
    GIN index on ``vector`` exists on PostgreSQL only (migration 0009).
    """

    root = models.CharField(_("model"), max_length=100)
    object_id = models.CharField(_("object ID"), max_length=64)
    vector = TsVectorField(_("words"), blank=True, default="")

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        constraints = [
            models.UniqueConstraint(fields=["root", "object_id"], name="cms_searchentry_key")
        ]

    def __str__(self) -> str:
        return f"{self.root} {self.object_id}"


def _paginate(queryset: QuerySet[Any], request: HttpRequest) -> PaginatorPage:
    return Paginator(queryset, LISTING_PAGE_SIZE).get_page(request.GET.get("page"))
