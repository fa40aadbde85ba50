"""The organisations and secretaries in the Wagtail admin, scoped to the user's subtree."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import unquote
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet

from learning.common.spreadsheets import SpreadsheetExportTextMixin
from learning.models import Organization, OrganizationSecretary
from learning.people import services
from learning.people.admin_forms import OrganizationForm
from learning.people.selectors import organizations_visible_to


class IndentedTitleColumn(TitleColumn):
    """The organisation name, indented by depth so the list reads as a tree."""

    def get_value(self, instance: Organization) -> str:
        indent = "\u3000" * (instance.depth - 1)
        prefix = "└ " if instance.depth > 1 else ""
        return f"{indent}{prefix}{instance.name}"


class OrganizationIndexView(SpreadsheetExportTextMixin, generic.IndexView):
    def get_base_queryset(self) -> QuerySet[Organization]:
        # Active members directly in each organisation, counted in the same query.
        return (
            organizations_visible_to(self.request.user)
            .annotate(active_members=Count("members", filter=Q(members__is_active=True)))
            .order_by("path")
        )

    @cached_property
    def columns(self) -> list[Column]:
        return [
            IndentedTitleColumn(
                "name", label=gettext_lazy("Organisation"), url_name=self.get_edit_url_name()
            ),
            Column("code", label=gettext_lazy("code")),
            Column("kind", label=gettext_lazy("kind"), accessor="get_kind_display"),
            Column("active_members", label=gettext_lazy("members")),
            Column(
                "is_active",
                label=gettext_lazy("active"),
                accessor=lambda organization: _("Yes") if organization.is_active else _("No"),
            ),
        ]

    def get_edit_url_name(self) -> str:
        return self.edit_url_name

    def order_queryset(self, queryset: QuerySet[Organization]) -> QuerySet[Organization]:
        return queryset.order_by("path")


class ScopedOrganizationMixin:
    """An organisation outside the user's subtrees is not found (404), like a member."""

    request: HttpRequest
    kwargs: dict[str, Any]
    pk_url_kwarg = "pk"

    def get_object(self, queryset: QuerySet[Organization] | None = None) -> Organization:
        pk = unquote(str(self.kwargs[self.pk_url_kwarg]))
        return get_object_or_404(organizations_visible_to(self.request.user), pk=pk)


class OrganizationInspectView(ScopedOrganizationMixin, generic.InspectView):
    pass


class OrganizationDeleteView(ScopedOrganizationMixin, generic.DeleteView):
    pass


class OrganizationHistoryView(ScopedOrganizationMixin, generic.HistoryView):
    pass


class OrganizationUsageView(ScopedOrganizationMixin, UsageView):
    pass


class OrganizationCreateView(generic.CreateView):
    def save_instance(self) -> Organization:
        data = self.form.cleaned_data
        return services.organization_create(
            name=data["name"],
            code=data["code"],
            kind=data["kind"],
            parent=data.get("parent"),
            sort_order=data.get("sort_order") or 0,
            is_active=data.get("is_active", True),
            hide_member_names=data.get("hide_member_names", False),
        )


class OrganizationEditView(ScopedOrganizationMixin, generic.EditView):
    def save_instance(self) -> Organization:
        data = self.form.cleaned_data
        changed = {
            name: data[name]
            for name in ("name", "code", "kind", "sort_order", "is_active", "hide_member_names")
            if name in self.form.changed_data
        }
        return services.organization_update(
            organization=self.object, parent=data.get("parent"), **changed
        )


class OrganizationViewSet(ModelViewSet):
    model = Organization
    icon = "site"
    menu_label = gettext_lazy("Organisations")
    menu_order = 200
    add_to_admin_menu = True
    index_view_class = OrganizationIndexView
    add_view_class = OrganizationCreateView
    edit_view_class = OrganizationEditView
    delete_view_class = OrganizationDeleteView
    history_view_class = OrganizationHistoryView
    usage_view_class = OrganizationUsageView
    inspect_view_class = OrganizationInspectView
    search_fields = ["name", "code"]
    list_filter = ["kind", "is_active"]
    list_per_page = 100
    list_export = ["code", "name", "kind", "is_active"]
    copy_view_enabled = False
    inspect_view_enabled = True

    def get_form_class(self, for_update: bool = False) -> type[OrganizationForm]:
        return OrganizationForm


class SecretaryCreateView(generic.CreateView):
    def save_instance(self) -> OrganizationSecretary:
        return services.secretary_assign(
            member=self.form.cleaned_data["member"],
            organization=self.form.cleaned_data["organization"],
        )


class SecretaryViewSet(ModelViewSet):
    model = OrganizationSecretary
    icon = "user"
    menu_label = gettext_lazy("Secretaries")
    menu_order = 220
    add_to_admin_menu = True
    form_fields = ["member", "organization"]
    add_view_class = SecretaryCreateView
    list_display = ["member", "organization", "created_at"]
    search_fields = ["member__display_name", "member__username", "organization__name"]
    copy_view_enabled = False
