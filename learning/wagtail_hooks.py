"""Wagtail admin registration for the learning app: organisations, members, assignments,
points, screens."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import LogActionRegistry
from wagtail.permissions import policy_registry
from wagtail.snippets.models import register_snippet

from learning import services
from learning.admin_assignments import AssignmentViewSet, ReportMenuItem
from learning.admin_forms import OrganizationForm
from learning.admin_logins import LoginLockoutsMenuItem, login_lockouts_view
from learning.admin_points import LedgerViewSet, PointsRuleViewSet, ScreenViewSet
from learning.admin_views import MEMBER_BULK_ACTIONS
from learning.audit import audit_actions_register
from learning.importers.members import (
    MAX_UPLOAD_BYTES,
    initial_credentials_xlsx,
    member_import_template,
    members_import,
)
from learning.importers.sheets import file_too_large_message
from learning.importers.uploads import UploadLimit, limit_uploads
from learning.models import Member, Organization, OrganizationSecretary
from learning.selectors import organizations_visible_to
from learning.spreadsheets import XLSX_CONTENT_TYPE, SpreadsheetExportTextMixin


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


def _can_add_members(request: HttpRequest) -> bool:
    return policy_registry.get_by_type(Member).user_has_permission(request.user, "add")


def _require_member_add_permission(request: HttpRequest) -> None:
    if not _can_add_members(request):
        raise PermissionDenied


class MemberImportMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return _can_add_members(request)


@csrf_exempt
def member_import_view(request: HttpRequest) -> HttpResponse:
    """Upload an .xlsx of members: check everything, then import all rows or none.

    The upload is bounded before it is stored (``limit_uploads``), so the CSRF check,
    which reads the body, runs after the limit is in place, in ``_member_import``.
    """
    limit = limit_uploads(request, max_bytes=MAX_UPLOAD_BYTES)
    return _member_import(request, limit)


@csrf_protect
def _member_import(request: HttpRequest, limit: UploadLimit) -> HttpResponse:
    _require_member_add_permission(request)
    context: dict[str, Any] = {"template_url": reverse("learning_member_import_template")}
    if request.method == "POST":
        upload = request.FILES.get("file")
        dry_run = bool(request.POST.get("dry_run"))
        if limit.exceeded or (upload is not None and upload.size > MAX_UPLOAD_BYTES):
            context["error"] = file_too_large_message(MAX_UPLOAD_BYTES)
        elif upload is None:
            context["error"] = _("Choose an .xlsx file to upload.")
        else:
            # No shared password from the page: each member gets one of their own, so
            # that an imported member cannot log in as a colleague (docs/security.md).
            result = members_import(
                file=upload,
                created_by=request.user,
                allowed_organizations=organizations_visible_to(request.user),
                dry_run=dry_run,
            )
            context["result"] = result
            if result.credentials:
                # Shown this once: the sheet travels inside the page, never stored.
                sheet = initial_credentials_xlsx(result.credentials)
                context["credentials_href"] = "data:{};base64,{}".format(
                    XLSX_CONTENT_TYPE, base64.b64encode(sheet).decode("ascii")
                )
                context["credentials_filename"] = "initial-passwords-{}.xlsx".format(
                    timezone.localtime().strftime("%Y%m%d-%H%M")
                )
    response = render(request, "learning/admin/member_import.html", context)
    # The page may hold initial passwords: never keep it in a cache or the history.
    add_never_cache_headers(response)
    return response


def member_import_template_view(request: HttpRequest) -> HttpResponse:
    """The blank .xlsx import sheet with an example row and instructions."""
    _require_member_add_permission(request)
    response = HttpResponse(
        member_import_template(),
        content_type=XLSX_CONTENT_TYPE,
    )
    response["Content-Disposition"] = 'attachment; filename="member-import-template.xlsx"'
    return response


@hooks.register("register_admin_viewset")
def register_viewsets() -> list[ModelViewSet]:
    return [
        OrganizationViewSet("organizations"),
        SecretaryViewSet("secretaries"),
        AssignmentViewSet("assignments"),
        LedgerViewSet("ledger"),
        ScreenViewSet("screens"),
    ]


register_snippet(PointsRuleViewSet)


@hooks.register("register_admin_urls")
def register_import_urls() -> list[Any]:
    return [
        path("members/import/", member_import_view, name="learning_member_import"),
        path(
            "members/import/template.xlsx",
            member_import_template_view,
            name="learning_member_import_template",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_import_menu_item() -> MenuItem:
    return MemberImportMenuItem(
        gettext_lazy("Import members"),
        reverse("learning_member_import"),
        icon_name="upload",
        order=215,
    )


@hooks.register("register_admin_menu_item")
def register_assignment_report_menu_item() -> MenuItem:
    return ReportMenuItem(
        gettext_lazy("Assignment report"),
        reverse("assignments:report"),
        icon_name="table",
        order=235,
    )


# After Wagtail's own user bulk actions (order 0), so these replace them for members.
for _bulk_action in MEMBER_BULK_ACTIONS:
    hooks.register("register_bulk_action", _bulk_action, order=1)


@hooks.register("register_log_actions")
def register_audit_log_actions(actions: LogActionRegistry) -> None:
    audit_actions_register(actions)


@hooks.register("register_admin_urls")
def register_login_lockout_urls() -> list[Any]:
    return [path("logins/locked/", login_lockouts_view, name="learning_login_lockouts")]


@hooks.register("register_reports_menu_item")
def register_login_lockouts_menu_item() -> MenuItem:
    return LoginLockoutsMenuItem(
        gettext_lazy("Failed logins"),
        reverse("learning_login_lockouts"),
        icon_name="lock",
        order=1100,
    )


class MembersMenuItem(MenuItem):
    """党员: the member list, for whoever may see members (secretaries: their subtree)."""

    def is_shown(self, request: HttpRequest) -> bool:
        return policy_registry.get_by_type(Member).user_has_permission(request.user, "view")


@hooks.register("register_admin_menu_item")
def register_members_menu_item() -> MenuItem:
    return MembersMenuItem(
        gettext_lazy("Members"),
        reverse("wagtailusers_users:index"),
        name="members",
        icon_name="group",
        order=205,
    )
