"""Wagtail admin of the questions: the list (filters, exam locks), the viewset, bulk
retire and reactivate, and the previews.

Categories are in ``quizzes.bank.admin_categories``; the question form and its create
and edit views in ``quizzes.bank.admin_question_form``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.widgets.button import Button as MenuButton
from wagtail.admin.widgets.button import HeaderButton
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView
from wagtail.snippets.views.snippets import SnippetViewSet

from quizzes.bank import services
from quizzes.bank.admin_categories import CategoryChoiceField
from quizzes.bank.admin_question_form import (
    QUESTION_PANELS,
    QuestionAdminForm,
    QuestionCreateView,
    QuestionEditView,
)
from quizzes.bank.selectors import category_path_names
from quizzes.models import Question, QuestionCategory, QuestionTag
from quizzes.taking.locks import Lock, exam_locks
from quizzes.taking.practice import practice_question
from quizzes.taking.presenting import with_images

# --- the question list -----------------------------------------------------------------


class SubtreeCategoryFilter(django_filters.ModelChoiceFilter):
    """Questions of a category and of every category below it."""

    field_class = CategoryChoiceField

    def filter(self, queryset: QuerySet[Question], value: QuestionCategory | None) -> Any:
        if value is None:
            return queryset
        return queryset.filter(category__in=value.subtree())


class QuestionFilterSet(WagtailFilterSet):
    category = SubtreeCategoryFilter(
        label=gettext_lazy("category"), queryset=QuestionCategory.objects.order_by("path")
    )
    type = django_filters.ChoiceFilter(
        label=gettext_lazy("question type"), choices=Question.Type.choices
    )
    difficulty = django_filters.ChoiceFilter(
        label=gettext_lazy("difficulty"), choices=[(n, str(n)) for n in range(1, 6)]
    )
    tag = django_filters.ModelChoiceFilter(
        label=gettext_lazy("tag"),
        field_name="tagged_items__tag",
        queryset=QuestionTag.objects.order_by("name"),
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("question status"), choices=Question.Status.choices
    )
    locked = django_filters.ChoiceFilter(
        label=gettext_lazy("locked for exams"),
        choices=[("yes", gettext_lazy("Locked")), ("no", gettext_lazy("Not locked"))],
        method="filter_locked",
    )

    class Meta:
        model = Question
        fields = ["category", "type", "difficulty", "tag", "status", "locked"]

    def filter_locked(self, queryset: QuerySet[Question], name: str, value: str) -> Any:
        locks = exam_locks()
        if value == "yes":
            return queryset.filter(pk__in=locks.locked_questions().values("pk"))
        if value == "no":
            return locks.exclude_locked(queryset)
        return queryset


class QuestionIndexView(SnippetIndexView):
    def get_base_queryset(self) -> QuerySet[Question]:
        return super().get_base_queryset().order_by("-updated_at", "-pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The category's path (党史/新民主主义革命时期) from one query for the whole page.
        paths = category_path_names()
        questions = list(context.get("object_list") or [])
        locks = exam_locks().locks_of(question.pk for question in questions)
        for question in questions:
            question.category_path = "/".join(paths.get(question.category_id, []))
            question.lock_text = lock_text(locks.get(question.pk))
        return context

    @cached_property
    def header_buttons(self) -> list[Any]:
        buttons = list(super().header_buttons)
        user = self.request.user
        if self.permission_policy.user_has_permission(user, "add"):
            buttons.append(
                HeaderButton(
                    _("Import"), url=reverse("quizzes_question_import"), icon_name="upload"
                )
            )
        return buttons

    @cached_property
    def header_more_buttons(self) -> list[Any]:
        buttons = list(super().header_more_buttons)
        user = self.request.user
        if self.permission_policy.user_has_permission(user, "add"):
            buttons.append(
                MenuButton(
                    _("Download the import template (.xlsx)"),
                    url=reverse("quizzes_question_import_template"),
                    icon_name="download",
                    priority=50,
                )
            )
        if self.permission_policy.user_has_permission(user, "change"):
            for format_name, label in (
                ("xlsx", _("Export the bank (.xlsx)")),
                ("gift", _("Export the bank (GIFT)")),
            ):
                buttons.append(
                    MenuButton(
                        label,
                        url=reverse("quizzes_questions_export", args=[format_name]),
                        icon_name="download",
                        priority=60,
                    )
                )
        return buttons

    def get_list_more_buttons(self, instance: Question) -> list[Any]:
        buttons = list(super().get_list_more_buttons(instance))
        from wagtail.admin.menu import MenuItem

        buttons.append(
            MenuItem(
                _("Preview as a member sees it"),
                url=reverse("quizzes_question_preview", args=[instance.pk]),
                icon_name="view",
                priority=40,
            )
        )
        buttons.append(
            MenuItem(
                _("Answer and explanation"),
                url=reverse("quizzes_question_answer", args=[instance.pk]),
                icon_name="tick-inverse",
                priority=41,
            )
        )
        return buttons


def lock_text(lock: Lock | None) -> str:
    """How an editor reads a question's exam lock: until when, and which exams."""
    if lock is None:
        return ""
    if lock.exam_only:
        return _("For exams only (its category)")
    exams = "、".join(lock.exams)
    if lock.until is None:
        return _("Until %(exams)s is closed") % {"exams": exams}
    when = date_format(timezone.localtime(lock.until), "DATETIME_FORMAT")
    return _("Until %(when)s (%(exams)s)") % {"when": when, "exams": exams}


def _stem_preview(question: Question) -> str:
    text = f"【{question.title}】{question.stem}" if question.title else question.stem
    return Truncator(text).chars(70)


def _bank_users_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("quizzes.view_question"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class QuestionChooserViewSet(SnippetChooserViewSet):
    """The question chooser (a quiz's fixed questions), for those who may see the bank.

    Wagtail opens every snippet chooser to anyone with admin access; the question bank is
    closed to secretaries (docs/roles.md), who could otherwise list and search its stems
    here, those of open exams included (tests/security/test_permission_matrix.py).
    """

    def get_urlpatterns(self) -> list[Any]:
        return [
            URLPattern(
                pattern.pattern,
                _bank_users_only(pattern.callback),
                pattern.default_args,
                pattern.name,
            )
            for pattern in super().get_urlpatterns()
        ]


class QuestionViewSet(SnippetViewSet):
    model = Question
    chooser_viewset_class = QuestionChooserViewSet
    icon = "help"
    menu_label = gettext_lazy("Questions")
    menu_order = 300
    add_to_admin_menu = True
    index_view_class = QuestionIndexView
    add_view_class = QuestionCreateView
    edit_view_class = QuestionEditView
    filterset_class = QuestionFilterSet
    search_fields = ["stem", "title"]
    list_per_page = 50
    copy_view_enabled = False
    inspect_view_enabled = False
    edit_handler = ObjectList(QUESTION_PANELS, base_form_class=QuestionAdminForm)

    @property
    def list_display(self) -> list[Any]:
        return [
            TitleColumn(
                "stem",
                label=gettext_lazy("stem"),
                accessor=_stem_preview,
                get_url=lambda question: reverse(self.get_url_name("edit"), args=[question.pk]),
            ),
            Column("type", label=gettext_lazy("question type"), accessor="get_type_display"),
            Column("category_path", label=gettext_lazy("category")),
            Column("difficulty", label=gettext_lazy("difficulty"), sort_key="difficulty"),
            Column("status", label=gettext_lazy("question status"), accessor="get_status_display"),
            Column("version", label=gettext_lazy("version")),
            Column("lock_text", label=gettext_lazy("locked for exams")),
        ]


# --- bulk actions ----------------------------------------------------------------------


class _QuestionStatusBulkAction(SnippetBulkAction):
    models = [Question]
    template_name = "quizzes/admin/bulk_status.html"
    action_priority = 20

    def check_perm(self, obj: Question) -> bool:
        return self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", obj
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["action_title"] = self.display_name
        context["action_help"] = self.confirm_text
        return context


class RetireBulkAction(_QuestionStatusBulkAction):
    display_name = gettext_lazy("Retire")
    action_type = "retire"
    aria_label = gettext_lazy("Retire the selected questions")
    confirm_text = gettext_lazy(
        "Retired questions are no longer drawn into new quizzes. Past attempts keep them "
        "as they were."
    )

    @classmethod
    def execute_action(cls, objects: list[Question], **kwargs: Any) -> tuple[int, int]:
        return services.question_retire(questions=objects), 0

    def get_success_message(self, num_parent_objects: int, num_child_objects: int) -> str:
        return ngettext(
            "%(count)d question was retired.",
            "%(count)d questions were retired.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class ReactivateBulkAction(_QuestionStatusBulkAction):
    display_name = gettext_lazy("Reactivate")
    action_type = "reactivate"
    aria_label = gettext_lazy("Put the selected questions back into use")
    confirm_text = gettext_lazy("These questions can be drawn into new quizzes again.")

    @classmethod
    def execute_action(cls, objects: list[Question], **kwargs: Any) -> tuple[int, int]:
        return services.question_reactivate(questions=objects), 0

    def get_success_message(self, num_parent_objects: int, num_child_objects: int) -> str:
        return ngettext(
            "%(count)d question is in use again.",
            "%(count)d questions are in use again.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


# --- previews --------------------------------------------------------------------------


def _question_for_view(request: HttpRequest, pk: int) -> Question:
    from quizzes.bank.admin_views import question_policy

    if not question_policy.user_has_permission(request.user, "view"):
        raise PermissionDenied
    return get_object_or_404(
        Question.objects.select_related("category", "image").prefetch_related("choices", "blanks"),
        pk=pk,
    )


def question_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The question as the member quiz page shows it — without any hint of the answer."""
    question = _question_for_view(request, pk)
    return render(
        request,
        "quizzes/admin/question_preview.html",
        {
            "item": with_images([practice_question(question)])[0],
            "question": question,
            "answer_url": reverse("quizzes_question_answer", args=[question.pk]),
        },
    )


def question_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    """For editors: the answer, the marks of each option and the explanation."""
    question = _question_for_view(request, pk)
    choices = [
        {
            "letter": "ABCDEF"[index] if index < 6 else str(index + 1),
            "text": choice.text,
            "is_correct": choice.is_correct,
            "percent": f"{choice.weight * 100:.2f}".rstrip("0").rstrip("."),
            "feedback": choice.feedback,
        }
        for index, choice in enumerate(question.choices.all())
    ]
    blanks = [" / ".join(blank.answers) for blank in question.blanks.all()]
    return render(
        request,
        "quizzes/admin/question_answer.html",
        {
            "question": question,
            "choices": choices,
            "blanks": blanks,
            "category_path": question.category.path_display(),
            "lock": lock_text(exam_locks().locks_of([question.pk]).get(question.pk)),
            "preview_url": reverse("quizzes_question_preview", args=[question.pk]),
            "edit_url": reverse("wagtailsnippets_quizzes_question:edit", args=[question.pk]),
        },
    )


def question_preview_urls() -> list[Any]:
    return [
        path("questions/preview/<int:pk>/", question_preview_view, name="quizzes_question_preview"),
        path("questions/answer/<int:pk>/", question_answer_view, name="quizzes_question_answer"),
    ]
