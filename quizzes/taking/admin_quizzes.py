"""Wagtail admin of quizzes: the quiz list and form, and the daily quiz settings.

The form checks what the database cannot explain to an editor: the quiz closes after it
opens, a published quiz has something to ask, and every drawing rule can be satisfied by
the bank as it is now (``draw_candidates``, the same query that draws for an attempt). A
form with any problem saves nothing: the quiz and its inline rows are written only after
every check has passed.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
)
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton, ListingButton

from learning.common.admin_tables import YesNoColumn
from learning.models import Organization
from quizzes.bank.admin_categories import CategoryChoiceField
from quizzes.models import DailyQuizSettings, Question, QuestionCategory, Quiz, QuizDrawRule
from quizzes.results.scope import can_see_all_results, can_view_results
from quizzes.taking.attempts import draw_candidates
from quizzes.taking.locks import ExamLocks, exam_locks

DAILY_SETTINGS_PERMISSION = "quizzes.change_dailyquizsettings"


class AudienceField(forms.ModelMultipleChoiceField):
    """Organisations in tree order, indented by depth, as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Organization) -> str:
        return f"{'　' * (obj.depth - 1)}{obj.name}（{obj.code}）"


def _live_forms(formset: Any) -> list[forms.Form]:
    """The inline rows that will be saved: filled in or stored, and not marked for deletion."""
    if formset is None:
        return []
    return [
        form
        for form in formset.forms
        if (form.has_changed() or form.instance.pk)
        and not (formset.can_delete and formset._should_delete_form(form))
    ]


def _fixed_question_problem(question: Question, *, auto_only: bool, locked: bool) -> str:
    """Why attempts at the quiz would leave out (or could not ask) this fixed question, the
    first reason that holds; empty if none does."""
    if question.status != Question.Status.ACTIVE:
        return _("This question is retired: attempts would leave it out.")
    if auto_only and question.type == Question.Type.SHORT_ANSWER:
        return _(
            "A short answer is marked by a person, so a quiz that shows answers "
            "after each question cannot ask it."
        )
    if locked:
        return _(
            "This question is locked by an exam that can still be taken (or its "
            "category is for exams only): attempts would leave it out."
        )
    return ""


class QuizAdminForm(WagtailAdminModelForm):
    """A quiz with its fixed questions and drawing rules, checked against the bank."""

    organizations = AudienceField(
        queryset=Organization.objects.order_by("path"),
        required=False,
        label=gettext_lazy("audience"),
        help_text=gettext_lazy(
            "Members of these organisations and every organisation below them may take "
            "the quiz. Leave empty for everyone."
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The quiz must close after it opens."))
        if data.get("kind") == Quiz.Kind.DAILY and not data.get("local_date"):
            self.add_error("local_date", _("A daily quiz needs its day."))
        if data.get("kind") == Quiz.Kind.EXAM and data.get("review") == Quiz.Review.AFTER_EACH:
            # The exam's questions are locked while it can be taken; a verdict after each
            # answer would hand the answers to those still to sit it.
            self.add_error(
                "review",
                _(
                    "An exam cannot show answers after each question: its answers stay "
                    "locked while it can still be taken."
                ),
            )
        return data

    def is_valid(self) -> bool:
        # Child rows are cleaned by the formsets inside super().is_valid(); the checks
        # across the quiz and its rows can only run after that.
        if not super().is_valid():
            return False
        fixed = _live_forms(self.formsets.get("fixed_questions"))
        rules = _live_forms(self.formsets.get("draw_rules"))
        valid = True
        if self.cleaned_data.get("is_published") and not fixed and not rules:
            self.add_error(
                "is_published",
                _("Add at least one fixed question or drawing rule before publishing."),
            )
            valid = False
        # A quiz that shows the verdict after each answer cannot wait for a grader.
        auto_only = self.cleaned_data.get("review") == Quiz.Review.AFTER_EACH
        # Any quiz but an exam leaves out what exams lock (quizzes.taking.locks), so its
        # questions and rules can only count on the questions that are free now.
        locks = None if self.cleaned_data.get("kind") == Quiz.Kind.EXAM else exam_locks()
        fixed_ids: set[int] = set()
        questions = [(form, form.cleaned_data.get("question")) for form in fixed]
        locked = (
            locks.locked_ids(question.pk for _form, question in questions if question is not None)
            if locks is not None
            else set()
        )
        for form, question in questions:
            if question is None:
                continue
            problem = _fixed_question_problem(
                question, auto_only=auto_only, locked=question.pk in locked
            )
            if problem:
                form.add_error("question", problem)
                valid = False
            fixed_ids.add(question.pk)
        for form in rules:
            if not self._rule_can_draw(form, fixed_ids, auto_only, locks):
                valid = False
        return valid

    def _rule_can_draw(
        self, form: forms.Form, fixed_ids: set[int], auto_only: bool, locks: ExamLocks | None
    ) -> bool:
        data = form.cleaned_data
        count = data.get("count")
        if count is None:
            return True
        rule: QuizDrawRule = form.instance
        # Fixed questions are never drawn again, so they do not count towards a rule.
        matching = [
            pk
            for pk in draw_candidates(rule, auto_scored_only=auto_only, locks=locks)
            if pk not in fixed_ids
        ]
        if len(matching) >= count:
            return True
        message = ngettext(
            "Only %(matching)d active question matches this rule, but it draws %(count)d.",
            "Only %(matching)d active questions match this rule, but it draws %(count)d.",
            len(matching),
        ) % {"matching": len(matching), "count": count}
        if auto_only:
            message += " " + _(
                "Short answers are left out because this quiz shows answers after each question."
            )
        if locks is not None and locks.active:
            message += " " + _(
                "Questions locked by exams that can still be taken, and those of categories "
                "for exams only, are left out too."
            )
        form.add_error("count", message)
        return False


class DrawRuleForm(WagtailAdminModelForm):
    """One drawing rule; an inverted difficulty range is an error on its field (checked
    before the model's constraint, whose generic message names only the constraint)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("min_difficulty"), data.get("max_difficulty")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_difficulty", _("The highest difficulty cannot be below the lowest.")
            )
        return data


class DrawRulesPanel(InlinePanel):
    """An inline panel whose rows use ``DrawRuleForm``."""

    def get_form_options(self) -> dict[str, Any]:
        options = super().get_form_options()
        options["formsets"][self.relation_name]["form"] = DrawRuleForm
        return options


QUIZ_PANELS = [
    MultiFieldPanel(
        [
            FieldPanel("title"),
            FieldPanel("description"),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("local_date")]),
            FieldPanel("is_published"),
        ],
        heading=gettext_lazy("Basics"),
    ),
    MultiFieldPanel([FieldPanel("organizations")], heading=gettext_lazy("Audience")),
    MultiFieldPanel(
        [
            FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]),
            FieldRowPanel([FieldPanel("time_limit_minutes"), FieldPanel("attempts_allowed")]),
        ],
        heading=gettext_lazy("Timing"),
    ),
    MultiFieldPanel(
        [
            FieldRowPanel([FieldPanel("grading_method"), FieldPanel("pass_percent")]),
            FieldPanel("multiple_rule"),
            FieldRowPanel([FieldPanel("shuffle_questions"), FieldPanel("shuffle_options")]),
            FieldPanel("min_seconds_per_question"),
        ],
        heading=gettext_lazy("Scoring"),
    ),
    MultiFieldPanel([FieldPanel("review")], heading=gettext_lazy("Review")),
    InlinePanel(
        "fixed_questions",
        label=gettext_lazy("Fixed questions"),
        panels=[FieldPanel("question"), FieldPanel("mark")],
        help_text=gettext_lazy("Every attempt asks these questions."),
    ),
    DrawRulesPanel(
        "draw_rules",
        label=gettext_lazy("Drawing rules"),
        panels=[
            FieldRowPanel([FieldPanel("category"), FieldPanel("tag")]),
            FieldRowPanel(
                [
                    FieldPanel("question_type"),
                    FieldPanel("min_difficulty"),
                    FieldPanel("max_difficulty"),
                ]
            ),
            FieldRowPanel([FieldPanel("count"), FieldPanel("mark")]),
        ],
        help_text=gettext_lazy(
            "Each attempt draws this many questions at random from the active questions "
            "that match, leaving out the fixed questions."
        ),
    ),
]


# --- list ----------------------------------------------------------------------------------


class QuizFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=gettext_lazy("kind"), choices=Quiz.Kind.choices)
    is_published = django_filters.BooleanFilter(label=gettext_lazy("published"))

    class Meta:
        model = Quiz
        fields = ["kind", "is_published"]


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class OpenWindowColumn(Column):
    """``2026-12-01 09:00 – 2026-12-07 18:00``; open-ended sides are left blank."""

    def get_value(self, instance: Quiz) -> str:
        if instance.kind == Quiz.Kind.DAILY and instance.local_date:
            return instance.local_date.isoformat()
        if not instance.opens_at and not instance.closes_at:
            return _("Always")
        return f"{_when(instance.opens_at)} – {_when(instance.closes_at)}".strip()


class QuizIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[Quiz]:
        return super().get_base_queryset().annotate(attempt_count=Count("attempts"))

    @cached_property
    def _can_view_results(self) -> bool:
        return can_view_results(self.request.user)

    @cached_property
    def _can_view_statistics(self) -> bool:
        return can_see_all_results(self.request.user)

    def get_list_more_buttons(self, instance: Quiz) -> list[Any]:
        buttons = list(super().get_list_more_buttons(instance))
        if self._can_view_results:
            buttons.append(
                ListingButton(
                    _("Results"),
                    url=reverse("quizzes_quiz_results", args=[instance.pk]),
                    icon_name="table",
                    priority=5,
                )
            )
        if self._can_view_statistics:
            buttons.append(
                ListingButton(
                    _("Statistics"),
                    url=reverse("quizzes_quiz_statistics", args=[instance.pk]),
                    icon_name="doc-full",
                    priority=6,
                )
            )
        return buttons

    def get_delete_url(self, instance: Quiz) -> str | None:
        if getattr(instance, "attempt_count", 0):
            return None
        return super().get_delete_url(instance)

    @cached_property
    def header_buttons(self) -> list[Any]:
        buttons = list(super().header_buttons)
        if self.request.user.has_perm(DAILY_SETTINGS_PERMISSION):
            buttons.append(
                HeaderButton(
                    _("Daily quiz settings"),
                    url=reverse("quizzes_daily_settings"),
                    icon_name="cog",
                )
            )
        return buttons


class QuizDeleteView(generic.DeleteView):
    """Deletes only a quiz nobody has attempted: attempts keep their quiz for good."""

    def _refused(self) -> HttpResponse | None:
        """Back to the list with the reason, for a quiz that has attempts."""
        if not self.object.attempts.exists():
            return None
        messages.error(
            self.request, _("A quiz with attempts cannot be deleted: unpublish it instead.")
        )
        return redirect(reverse(self.index_url_name))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._refused() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._refused() or super().post(request, *args, **kwargs)


class QuizViewSet(ModelViewSet):
    model = Quiz
    icon = "list-ul"
    # The menu label is the model's plural (测验), apart from the group's "Quizzes" (答题).
    menu_order = 100
    index_view_class = QuizIndexView
    delete_view_class = QuizDeleteView
    filterset_class = QuizFilterSet
    search_fields = ["title"]
    list_per_page = 50
    copy_view_enabled = False
    inspect_view_enabled = False
    edit_handler = ObjectList(QUIZ_PANELS, base_form_class=QuizAdminForm)

    @property
    def list_display(self) -> list[Any]:
        return [
            TitleColumn(
                "title",
                label=gettext_lazy("title"),
                url_name=self.get_url_name("edit"),
                sort_key="title",
            ),
            Column("kind", label=gettext_lazy("kind"), accessor="get_kind_display"),
            OpenWindowColumn("opens_at", label=gettext_lazy("open window"), sort_key="opens_at"),
            YesNoColumn("is_published", label=gettext_lazy("published")),
            Column("attempt_count", label=gettext_lazy("attempts"), sort_key="attempt_count"),
        ]


# --- daily quiz settings -----------------------------------------------------------------


class DailyQuizSettingsForm(forms.ModelForm):
    category = CategoryChoiceField(
        queryset=QuestionCategory.objects.order_by("path"),
        required=False,
        label=gettext_lazy("question pool"),
        help_text=gettext_lazy(
            "Draw from this category and its subcategories; empty for the whole bank."
        ),
    )

    class Meta:
        model = DailyQuizSettings
        fields = ["question_count", "category", "avoid_days", "time_limit_minutes"]


class DailySettingsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(DAILY_SETTINGS_PERMISSION)


def daily_settings_view(request: HttpRequest) -> HttpResponse:
    """Edit the single row that shapes each day's quiz (from the next day made on)."""
    if not request.user.has_perm(DAILY_SETTINGS_PERMISSION):
        raise PermissionDenied
    current = DailyQuizSettings.current()
    form = DailyQuizSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Daily quiz settings saved."))
        return redirect("quizzes_daily_settings")
    return render(request, "quizzes/admin/daily_settings.html", {"form": form})


def quiz_admin_urls() -> list[Any]:
    return [path("quiz-settings/daily/", daily_settings_view, name="quizzes_daily_settings")]
