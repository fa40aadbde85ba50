"""Wagtail admin for assigned study: the assignment list and form, and the completion report.

Editors and administrators assign to any organisation. A branch secretary may create
assignments only for organisations in their own subtree (the form offers no others and
the service refuses them), sees the assignments that touch their subtree, may change or
delete only those wholly inside it, and reports on their own members only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList, PageChooserPanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic import history, usage
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy

from learning.common.spreadsheets import XLSX_CONTENT_TYPE
from learning.models import Assignment, Member, Organization
from learning.people.selectors import organizations_visible_to
from learning.study.assignment_report import assignment_report, assignment_report_xlsx
from learning.study.assignments import (
    assignment_create,
    assignment_update,
    assignments_editable_by,
    assignments_visible_to,
    can_assign_anywhere,
    organizations_assignable_by,
)
from learning.study.pages import study_page_kind, study_page_type_names


class AssignmentPermissionPolicy(ModelPermissionPolicy):
    """Model permissions, narrowed for secretaries to assignments within their scope."""

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        if not super().user_has_permission(user, action):
            return False
        scoped = assignments_visible_to(user) if action == "view" else assignments_editable_by(user)
        return scoped.filter(pk=instance.pk).exists()

    def instances_user_has_any_permission_for(
        self, user: Any, actions: list[str]
    ) -> QuerySet[Assignment]:
        allowed = [action for action in actions if super().user_has_permission(user, action)]
        if not allowed:
            return Assignment.objects.none()
        if "view" in allowed:
            return assignments_visible_to(user)
        return assignments_editable_by(user)


def can_view_reports(user: Member | AnonymousUser) -> bool:
    """Who may open completion reports: those who see members (admins, secretaries)."""
    if not user.is_authenticated or not user.has_perm("learning.view_assignment"):
        return False
    return organizations_visible_to(user).exists()


# --- Form ----------------------------------------------------------------------------


class TargetOrganizationsField(forms.ModelMultipleChoiceField):
    """Organisations in tree order, indented by depth, as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Organization) -> str:
        return f"{'　' * (obj.depth - 1)}{obj.name}（{obj.code}）"


class AssignmentForm(WagtailAdminModelForm):
    """Targets are limited to what the user may assign; the dates must be in order."""

    organizations = TargetOrganizationsField(
        queryset=Organization.objects.none(),
        label=gettext_lazy("organisations"),
        help_text=gettext_lazy(
            "Members of these organisations and of every organisation below them."
        ),
    )

    class Meta:
        model = Assignment
        fields = ["page", "title", "organizations", "start_date", "due_date", "is_required", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.for_user
        if user is None:
            self.fields["organizations"].queryset = Organization.objects.none()
            return
        choices = organizations_assignable_by(user).filter(is_active=True)
        if self.instance.pk:
            # Keep an inactive organisation that is already targeted choosable.
            current = organizations_assignable_by(user).filter(assignments=self.instance)
            choices = choices | current
        self.fields["organizations"].queryset = choices.distinct().order_by("path")
        if not self.instance.pk and not self.initial.get("start_date"):
            self.initial["start_date"] = timezone.localdate()

    def clean_page(self) -> Any:
        page = self.cleaned_data.get("page")
        if page is not None and study_page_kind(page) is None:
            raise forms.ValidationError(_("Choose a course or a lesson."))
        return page


# --- Views ---------------------------------------------------------------------------


class AssignmentIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[Assignment]:
        user = self.request.user
        editable = assignments_editable_by(user).filter(pk=OuterRef("pk"))
        return (
            assignments_visible_to(user)
            .select_related("page", "created_by")
            .prefetch_related(Prefetch("organizations", Organization.objects.order_by("path")))
            .annotate(_editable=Exists(editable))
        )

    def get_edit_url(self, instance: Assignment) -> str | None:
        if not getattr(instance, "_editable", False):
            return None
        return super().get_edit_url(instance)

    def get_delete_url(self, instance: Assignment) -> str | None:
        if not getattr(instance, "_editable", False):
            return None
        return super().get_delete_url(instance)

    def get_copy_url(self, instance: Assignment) -> str | None:
        if not getattr(instance, "_editable", False):
            return None
        return super().get_copy_url(instance)

    @cached_property
    def _can_view_reports(self) -> bool:
        return can_view_reports(self.request.user)

    def get_list_more_buttons(self, instance: Assignment) -> list[Any]:
        buttons = super().get_list_more_buttons(instance)
        if self._can_view_reports:
            buttons.append(
                ListingButton(
                    _("Completion report"),
                    url=f"{reverse('assignments:report')}?assignment={instance.pk}",
                    icon_name="table",
                    priority=5,
                )
            )
        return buttons


class _ScopedLookupMixin:
    """Look the object up within the user's scope only, so others answer 404.

    Alone, for views whose ``get_queryset`` lists something else about the object (the
    history's log entries, the usage's references): scoping that list to assignments
    made every history page fail.
    """

    request: HttpRequest
    editable_only = True

    def _scoped(self) -> QuerySet[Assignment]:
        if self.editable_only:
            return assignments_editable_by(self.request.user)
        return assignments_visible_to(self.request.user)

    def get_base_object_queryset(self) -> QuerySet[Assignment]:
        return self._scoped()


class _ScopedObjectMixin(_ScopedLookupMixin):
    """``_ScopedLookupMixin`` for views whose queryset is assignments too."""

    def get_queryset(self) -> QuerySet[Assignment]:
        return self._scoped()


class _ServiceErrorsAsFormErrorsMixin:
    """Show a service's ValidationError on the form instead of failing the request."""

    def form_valid(self, form: forms.Form) -> HttpResponse:
        try:
            return super().form_valid(form)  # type: ignore[misc]
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)  # type: ignore[attr-defined]


def _service_fields(form: forms.Form) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "page": data["page"],
        "organizations": list(data["organizations"]),
        "start_date": data["start_date"],
        "due_date": data["due_date"],
        "title": data.get("title") or "",
        "note": data.get("note") or "",
        "is_required": data.get("is_required", False),
    }


class AssignmentCreateView(_ServiceErrorsAsFormErrorsMixin, generic.CreateView):
    def save_instance(self) -> Assignment:
        return assignment_create(created_by=self.request.user, **_service_fields(self.form))


class AssignmentCopyView(_ScopedObjectMixin, _ServiceErrorsAsFormErrorsMixin, generic.CopyView):
    def get_object(self, queryset: QuerySet | None = None) -> Assignment:
        return get_object_or_404(self._scoped(), pk=self.kwargs[self.pk_url_kwarg])

    def save_instance(self) -> Assignment:
        return assignment_create(created_by=self.request.user, **_service_fields(self.form))


class AssignmentEditView(_ScopedObjectMixin, _ServiceErrorsAsFormErrorsMixin, generic.EditView):
    def save_instance(self) -> Assignment:
        # The form already assigned the fields to self.object; reload what is stored so
        # the service compares against the saved targets, not the posted ones.
        stored = Assignment.objects.get(pk=self.object.pk)
        return assignment_update(
            assignment=stored, by=self.request.user, **_service_fields(self.form)
        )


class AssignmentDeleteView(_ScopedObjectMixin, generic.DeleteView):
    pass


class AssignmentHistoryView(_ScopedLookupMixin, history.HistoryView):
    editable_only = False


class AssignmentUsageView(_ScopedLookupMixin, usage.UsageView):
    editable_only = False


class TargetsColumn(Column):
    def get_value(self, instance: Assignment) -> str:
        return "、".join(org.name for org in instance.organizations.all())


class KindColumn(Column):
    def get_value(self, instance: Assignment) -> str:
        kind = study_page_kind(instance.page)
        if kind == "course":
            return _("Course")
        if kind == "lesson":
            return _("Lesson")
        return "—"


class IsoDateColumn(Column):
    """A calendar day as 2026-11-30 (Wagtail's DateColumn shows times relative to now)."""

    def get_value(self, instance: Assignment) -> str:
        value = getattr(instance, self.name)
        return value.isoformat() if value else "—"


class RequiredColumn(Column):
    def get_value(self, instance: Assignment) -> str:
        return _("Required") if instance.is_required else _("Optional")


class AssignmentViewSet(ModelViewSet):
    model = Assignment
    icon = "tasks"
    menu_label = gettext_lazy("Study assignments")
    menu_order = 230
    add_to_admin_menu = True
    index_view_class = AssignmentIndexView
    add_view_class = AssignmentCreateView
    edit_view_class = AssignmentEditView
    delete_view_class = AssignmentDeleteView
    copy_view_class = AssignmentCopyView
    history_view_class = AssignmentHistoryView
    usage_view_class = AssignmentUsageView
    search_fields = ["title", "page__title"]
    list_filter = ["is_required", "start_date", "due_date"]
    list_per_page = 50
    edit_handler = ObjectList(
        [
            PageChooserPanel("page", page_type=study_page_type_names()),
            FieldPanel("title"),
            FieldPanel("organizations"),
            FieldRowPanel([FieldPanel("start_date"), FieldPanel("due_date")]),
            FieldPanel("is_required"),
            FieldPanel("note"),
        ],
        base_form_class=AssignmentForm,
    )

    @property
    def list_display(self) -> list[Any]:
        return [
            "__str__",
            KindColumn("kind", label=gettext_lazy("Kind")),
            TargetsColumn("organizations", label=gettext_lazy("Organisations")),
            IsoDateColumn("start_date", label=gettext_lazy("Start date"), sort_key="start_date"),
            IsoDateColumn("due_date", label=gettext_lazy("Due date"), sort_key="due_date"),
            RequiredColumn("is_required", label=gettext_lazy("Required")),
            Column("created_by", label=gettext_lazy("Created by")),
        ]

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("report/", assignment_report_view, name="report"),
            path("report/export/", assignment_report_export_view, name="report_export"),
        ]


# --- Report ----------------------------------------------------------------------------


class ReportMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_view_reports(request.user)


class ReportChoiceForm(forms.Form):
    assignment = forms.ModelChoiceField(
        label=gettext_lazy("Assignment"),
        queryset=Assignment.objects.none(),
        empty_label=gettext_lazy("Choose an assignment"),
    )

    def __init__(self, *args: Any, user: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignment"].queryset = (
            assignments_visible_to(user).select_related("page").order_by("-due_date", "-id")
        )


def _chosen_assignment(request: HttpRequest) -> tuple[ReportChoiceForm, Assignment | None]:
    if not can_view_reports(request.user):
        raise PermissionDenied
    form = ReportChoiceForm(request.GET or None, user=request.user)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["assignment"]
    return form, None


def assignment_report_view(request: HttpRequest) -> HttpResponse:
    """Pick an assignment; see completion per branch and per member of one's own scope."""
    form, assignment = _chosen_assignment(request)
    context: dict[str, Any] = {"form": form, "assignment": assignment}
    if assignment is not None:
        context["report"] = assignment_report(assignment=assignment, user=request.user)
        context["export_url"] = f"{reverse('assignments:report_export')}?assignment={assignment.pk}"
        context["can_assign_anywhere"] = can_assign_anywhere(request.user)
    return render(request, "learning/admin/assignment_report.html", context)


def assignment_report_export_view(request: HttpRequest) -> HttpResponse:
    """The same report as an .xlsx workbook."""
    _form, assignment = _chosen_assignment(request)
    if assignment is None:
        raise Http404(_("No such assignment."))
    report = assignment_report(assignment=assignment, user=request.user)
    response = HttpResponse(assignment_report_xlsx(report), content_type=XLSX_CONTENT_TYPE)
    filename = f"assignment-{assignment.pk}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
