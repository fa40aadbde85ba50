"""Wagtail admin of the question bank: categories (a tree), questions, bulk retire, previews.

Forms check a question with the same rules as the imports (``check_question``), and
saving goes through the services: ``question_created`` for a new question and
``question_content_changed`` when an edit changes what members are asked, so the
version moves on and past attempts keep their own copy.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button as MenuButton
from wagtail.admin.widgets.button import HeaderButton
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.snippets import CreateView as SnippetCreateView
from wagtail.snippets.views.snippets import EditView as SnippetEditView
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView
from wagtail.snippets.views.snippets import SnippetViewSet

from quizzes.bank import services
from quizzes.bank.formats.base import (
    CHOICE_TYPES,
    FIELD_ANSWER,
    FIELD_CATEGORY,
    FIELD_DIFFICULTY,
    FIELD_EXPLANATION,
    FIELD_STEM,
    FIELD_TAGS,
    FIELD_TITLE,
    FIELD_TYPE,
    ImportProblem,
    ParsedChoice,
    ParsedQuestion,
    default_weights,
    option_field,
)
from quizzes.bank.formats.checks import check_question
from quizzes.bank.formats.table import join_blank_answers, split_blank_answers
from quizzes.bank.selectors import category_path_names, question_snapshot
from quizzes.models import Question, QuestionCategory, QuestionTag
from quizzes.taking.locks import Lock, exam_locks
from quizzes.taking.practice import practice_question
from quizzes.taking.presenting import with_images

# --- categories ------------------------------------------------------------------------


class CategoryChoiceField(forms.ModelChoiceField):
    """Categories in tree order, indented by depth."""

    def label_from_instance(self, obj: QuestionCategory) -> str:
        return f"{'　' * (obj.depth - 1)}{obj.name}"


class QuestionCategoryForm(WagtailAdminModelForm):
    parent = CategoryChoiceField(
        queryset=QuestionCategory.objects.order_by("path"),
        required=False,
        label=gettext_lazy("parent category"),
        help_text=gettext_lazy("Leave empty for a top-level category."),
    )

    class Meta:
        model = QuestionCategory
        fields = ["name", "description", "sort_order", "exam_only"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Moving a category would move its questions: not offered here.
            del self.fields["parent"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if "/" in name or "／" in name:
            raise forms.ValidationError(_("A category name cannot contain “/”."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name = data.get("name")
        if not name:
            return data
        if self.instance.pk:
            siblings = self.instance.get_siblings().exclude(pk=self.instance.pk)
        elif data.get("parent"):
            siblings = data["parent"].get_children()
        else:
            siblings = QuestionCategory.get_root_nodes()
        if siblings.filter(name=name).exists():
            self.add_error(
                "name", _("There is already a category “%(name)s” here.") % {"name": name}
            )
        return data


class CategoryTitleColumn(TitleColumn):
    """The category name indented by depth, so the list reads as a tree."""

    def get_value(self, instance: QuestionCategory) -> str:
        indent = "\u3000" * (instance.depth - 1)
        prefix = "└ " if instance.depth > 1 else ""
        return f"{indent}{prefix}{instance.name}"


class QuestionCategoryIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[QuestionCategory]:
        return QuestionCategory.objects.annotate(question_total=Count("questions"))

    def order_queryset(self, queryset: QuerySet[QuestionCategory]) -> QuerySet[QuestionCategory]:
        return queryset.order_by("path")

    def get_delete_url(self, instance: QuestionCategory) -> str | None:
        if instance.numchild or getattr(instance, "question_total", 0):
            return None
        return super().get_delete_url(instance)


class QuestionCategoryCreateView(generic.CreateView):
    def save_instance(self) -> QuestionCategory:
        data = self.form.cleaned_data
        return services.category_create(
            name=data["name"],
            parent=data.get("parent"),
            description=data.get("description", ""),
            sort_order=data.get("sort_order") or 0,
        )


class QuestionCategoryDeleteView(generic.DeleteView):
    """Deletes only an empty category (no subcategories, no questions)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self._refusal():
            messages.error(request, self._refusal())
            return redirect(reverse(self.index_url_name))
        return super().get(request, *args, **kwargs)

    def _refusal(self) -> str:
        if self.object.get_children_count() or self.object.questions.exists():
            return _(
                "Only an empty category can be deleted: move or delete its questions and "
                "subcategories first."
            )
        return ""

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            services.category_delete(category=self.object)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect(reverse(self.index_url_name))
        messages.success(self.request, self.get_success_message())
        return redirect(self.get_success_url())


def _yes_or_blank(category: QuestionCategory) -> str:
    return _("Yes") if category.exam_only else ""


class QuestionCategoryViewSet(ModelViewSet):
    model = QuestionCategory
    icon = "folder-open-inverse"
    menu_label = gettext_lazy("Question categories")
    menu_order = 310
    index_view_class = QuestionCategoryIndexView
    add_view_class = QuestionCategoryCreateView
    delete_view_class = QuestionCategoryDeleteView
    search_fields = ["name"]
    list_per_page = 200
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update: bool = False) -> type[QuestionCategoryForm]:
        return QuestionCategoryForm

    @property
    def list_display(self) -> list[Column]:
        return [
            CategoryTitleColumn(
                "name", label=gettext_lazy("category name"), url_name=self.get_url_name("edit")
            ),
            Column("question_total", label=gettext_lazy("questions")),
            Column("numchild", label=gettext_lazy("subcategories")),
            Column("sort_order", label=gettext_lazy("sort order")),
            Column("exam_only", label=gettext_lazy("for exams only"), accessor=_yes_or_blank),
        ]


# --- the question form -----------------------------------------------------------------


class BlankAnswersInput(forms.TextInput):
    """The accepted answers of one blank as text: ``嘉兴南湖 / 南湖`` (a ``/`` between
    answers; ``\\/`` for a literal slash), stored as a JSON list."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        if isinstance(value, list):
            return join_blank_answers([[str(answer) for answer in value]]).replace("/", " / ")
        return None if value is None else str(value)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str | None:
        text = data.get(name)
        if text is None:
            return None
        answers = [answer for blank in split_blank_answers(text) for answer in blank]
        return json.dumps(answers, ensure_ascii=False)


# Where an import problem's field lands on the form.
_PROBLEM_FIELDS = {
    FIELD_TYPE: "type",
    FIELD_STEM: "stem",
    FIELD_TITLE: "title",
    FIELD_EXPLANATION: "explanation",
    FIELD_DIFFICULTY: "difficulty",
    FIELD_CATEGORY: "category",
    FIELD_TAGS: "tags",
}


class QuestionAdminForm(WagtailAdminModelForm):
    """A question with its options and blanks, checked as an import would check it."""

    def _live_children(self, relation: str) -> list[forms.Form]:
        formset = self.formsets.get(relation)
        if formset is None:
            return []
        children = [
            form
            for form in formset.forms
            if form.has_changed() or form.instance.pk
            if not (formset.can_delete and formset._should_delete_form(form))
        ]
        return sorted(children, key=lambda form: form.cleaned_data.get("ORDER") or 0)

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        problems = self._content_problems()
        for problem in problems:
            self._add_problem(problem)
        return not problems

    def _content_problems(self) -> list[ImportProblem]:
        data = self.cleaned_data
        question_type = data["type"]
        choice_forms = self._live_children("choices")
        blank_forms = self._live_children("blanks")
        choices = [
            ParsedChoice(
                text=(form.cleaned_data.get("text") or "").strip(),
                is_correct=bool(form.cleaned_data.get("is_correct")),
                weight=form.cleaned_data.get("weight") or 0,
            )
            for form in choice_forms
        ]
        if question_type in CHOICE_TYPES and choices and self._weights_automatic(choice_forms):
            # No weights of its own: the defaults the imports use for the ticked options.
            weights = default_weights(question_type, [c.is_correct for c in choices])
            for choice, form, weight in zip(choices, choice_forms, weights, strict=True):
                choice.weight = weight
                form.instance.weight = weight
        if question_type != Question.Type.TRUE_FALSE:
            self.instance.true_false_answer = None
        parsed = ParsedQuestion(
            type=question_type,
            stem=data.get("stem") or "",
            choices=choices,
            blanks=[list(form.cleaned_data.get("answers") or []) for form in blank_forms],
            true_false_answer=(
                data.get("true_false_answer") if question_type == Question.Type.TRUE_FALSE else None
            ),
            reference_answer=data.get("reference_answer") or "",
            explanation=data.get("explanation") or "",
            difficulty=data.get("difficulty") or 0,
            tags=[str(tag) for tag in data.get("tags") or []],
            title=data.get("title") or "",
        )
        return check_question(parsed)

    def _weights_automatic(self, choice_forms: list[forms.Form]) -> bool:
        """True unless the editor gave weights: all are 0, or none was changed and the
        stored ones are the defaults for the stored correct options."""
        weights = [form.cleaned_data.get("weight") or Decimal(0) for form in choice_forms]
        if not any(weights):
            return True
        initial = [Decimal(form.initial.get("weight") or 0) for form in choice_forms]
        if weights != initial:
            return False
        stored = [form for form in choice_forms if form.instance.pk]
        initial = [Decimal(form.initial.get("weight") or 0) for form in stored]
        initial_type = self.initial.get("type") or self.cleaned_data["type"]
        if initial_type not in CHOICE_TYPES:
            return True
        defaults = default_weights(
            initial_type, [bool(form.initial.get("is_correct")) for form in stored]
        )
        return initial == defaults

    def _add_problem(self, problem: ImportProblem) -> None:
        field_name = _PROBLEM_FIELDS.get(problem.field)
        question_type = self.cleaned_data.get("type")
        if problem.field == FIELD_ANSWER and question_type == Question.Type.TRUE_FALSE:
            field_name = "true_false_answer"
        if field_name and field_name in self.fields:
            self.add_error(field_name, problem.message)
            return
        where = _field_label(problem.field, question_type)
        self.add_error(None, f"{where}：{problem.message}" if where else problem.message)


def _field_label(field: str, question_type: str | None) -> str:
    if field == FIELD_ANSWER:
        if question_type == Question.Type.FILL_BLANK:
            return _("Blanks")
        if question_type in CHOICE_TYPES:
            return _("Options")
        return _("Answer")
    for index in range(6):
        if field == option_field(index):
            return _("Option %(letter)s") % {"letter": "ABCDEF"[index]}
    if field.startswith("选项"):
        return _("Options")
    return field


QUESTION_PANELS = [
    FieldRowPanel([FieldPanel("category"), FieldPanel("type")]),
    FieldPanel("stem"),
    InlinePanel(
        "choices",
        label=gettext_lazy("Options (single and multiple choice)"),
        panels=[
            FieldPanel("text"),
            FieldRowPanel([FieldPanel("is_correct"), FieldPanel("weight")]),
            FieldPanel("feedback"),
        ],
        help_text=gettext_lazy(
            "Tick the correct options. Leave every weight at 0 for the default marks "
            "(as in imports); give weights only for Moodle-style partial credit."
        ),
    ),
    InlinePanel(
        "blanks",
        label=gettext_lazy("Blanks (fill in the blank)"),
        panels=[
            FieldPanel(
                "answers",
                widget=BlankAnswersInput(),
                help_text=gettext_lazy("Accepted answers separated by /, e.g. 嘉兴南湖 / 南湖."),
            )
        ],
        help_text=gettext_lazy("One row per ____ in the stem, in order."),
    ),
    FieldPanel("true_false_answer"),
    FieldPanel("reference_answer"),
    FieldPanel("explanation"),
    FieldRowPanel([FieldPanel("difficulty"), FieldPanel("status")]),
    FieldPanel("title"),
    FieldPanel("tags"),
    FieldPanel("image"),
]


def _content_key(question: Question) -> dict[str, Any]:
    """What members are asked and how it is marked, without ids and version."""
    snapshot = question_snapshot(question)
    snapshot.pop("id")
    snapshot.pop("version")
    for choice in snapshot["choices"]:
        choice.pop("id")
    return snapshot


def _fresh(question: Question) -> Question:
    return Question.objects.get(pk=question.pk)


class QuestionCreateView(SnippetCreateView):
    def save_instance(self) -> Question:
        with transaction.atomic():
            question = super().save_instance()
            return services.question_created(question=_fresh(question), by=self.request.user)


class QuestionEditView(SnippetEditView):
    def get_object(self, queryset: QuerySet[Question] | None = None) -> Question:
        question = super().get_object(queryset)
        self.content_before = _content_key(question)
        return question

    def save_instance(self) -> Question:
        with transaction.atomic():
            question = super().save_instance()
            fresh = _fresh(question)
            if _content_key(fresh) != self.content_before:
                fresh = services.question_content_changed(question=fresh)
            return fresh


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


class QuestionViewSet(SnippetViewSet):
    model = Question
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
