"""The question form of the Wagtail admin, and its create and edit views.

The form checks a question with the same rules as the imports (``check_question``), and
saving goes through the services: ``question_created`` for a new question and
``question_content_changed`` when an edit changes what members are asked, so the
version moves on and past attempts keep their own copy.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel
from wagtail.snippets.views.snippets import CreateView as SnippetCreateView
from wagtail.snippets.views.snippets import EditView as SnippetEditView

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
from quizzes.bank.selectors import question_snapshot
from quizzes.models import Question


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
