"""Wagtail admin of the question categories: a tree, each category with its own
settings, listed with its questions, and a chooser field (``CategoryChoiceField``) that
the import and the quiz forms use too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from quizzes.bank import services
from quizzes.models import QuestionCategory


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
