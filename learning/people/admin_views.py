"""Wagtail admin views for members: Wagtail's user admin, scoped and service-backed.

Registered in place of Wagtail's own user viewset (``learning.apps.MembersAdminConfig``),
so there is one place to manage accounts. The permission policy
(``learning.people.permissions.MemberPermissionPolicy``) decides who may see and edit whom;
the views narrow every list and lookup to what the policy allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_list_or_404, get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import BooleanRadioSelect, WagtailFilterSet
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, DateColumn
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.widgets.button import Button
from wagtail.permissions import policy_registry
from wagtail.users.utils import user_can_delete_user
from wagtail.users.views import bulk_actions as wagtail_bulk_actions
from wagtail.users.views import users as wagtail_users

from learning.common.admin_tables import YesNoColumn
from learning.common.spreadsheets import SpreadsheetExportTextMixin
from learning.models import Member, Organization, PointsEntry
from learning.people import roles, services
from learning.people.admin_forms import MemberCreateForm, MemberEditForm, OrganizationChoiceField
from learning.people.permissions import can_assign_roles
from learning.people.selectors import organizations_visible_to, subtrees_q, user_is_administrator


def _member_policy() -> Any:
    return policy_registry.get_by_type(Member)


class SubtreeFilter(django_filters.ModelChoiceFilter):
    """Filter members by an organisation including everything below it."""

    field_class = OrganizationChoiceField

    def filter(self, queryset: QuerySet[Member], value: Organization | None) -> QuerySet[Member]:
        if value is None:
            return queryset
        return queryset.filter(subtrees_q([value], prefix="organization__"))


class MemberFilterSet(WagtailFilterSet):
    organization = SubtreeFilter(label=_("organisation"), queryset=Organization.objects.none())
    is_active = django_filters.BooleanFilter(label=_("active"), widget=BooleanRadioSelect)
    groups = django_filters.ModelChoiceFilter(
        label=_("role"), queryset=wagtail_users.Group.objects.order_by("name")
    )

    class Meta:
        model = Member
        fields = ["organization", "is_active", "groups"]

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Member] | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
        is_searching: bool = False,
    ) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        if request is not None:
            self.filters["organization"].queryset = organizations_visible_to(request.user).order_by(
                "path"
            )


class MemberIndexView(SpreadsheetExportTextMixin, wagtail_users.IndexView):
    page_title = _("Members")
    add_item_label = _("Add a member")
    search_fields = ["username", "display_name", "phone"]
    # What a secretary needs to work with their members' accounts in a spreadsheet; the
    # first four columns are those of the member import sheet.
    list_export = [
        "username",
        "display_name",
        "phone",
        "organization_code",
        "organization_name",
        "roles",
        "is_active",
        "last_login",
    ]
    export_headings = {
        "username": _("Username"),
        "display_name": capfirst(pgettext_lazy("person", "name")),
        "phone": capfirst(_("mobile phone")),
        "organization_code": _("Organisation code"),
        "organization_name": _("Organisation"),
        "roles": _("Roles"),
        "is_active": capfirst(_("active")),
        "last_login": _("Last login"),
    }
    export_filename = "members"

    @cached_property
    def columns(self) -> list[Column]:
        title_column = self._get_title_column_class(wagtail_users.UserColumn)
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type="user"),
            title_column(
                "name",
                accessor="display_name",
                label=pgettext_lazy("person", "name"),
                sort_key="name",
                get_url=self.get_edit_url,
                classname="name",
            ),
            Column("username", label=_("Username"), sort_key="username", width="15%"),
            Column("phone", label=_("mobile phone"), width="15%"),
            Column(
                "organization",
                label=_("organisation"),
                accessor=lambda member: member.organization.name if member.organization else "",
                width="20%",
            ),
            YesNoColumn("is_active", label=_("active"), sort_key="is_active", width="8%"),
            DateColumn("last_login", label=_("Last login"), sort_key="last_login", width="12%"),
        ]

    def get_base_queryset(self) -> QuerySet[Member]:
        visible = _member_policy().instances_user_has_permission_for(self.request.user, "view")
        visible = visible.select_related("organization", "wagtail_userprofile")
        if self.is_export:
            visible = visible.prefetch_related("groups")
        return visible

    def to_row_dict(self, item: Member) -> dict[str, Any]:
        organization = item.organization
        held = {group.name for group in item.groups.all()}
        role_names = [name for name in roles.ALL_ROLES if name in held] + sorted(
            held - set(roles.ALL_ROLES)
        )
        last_login = (
            timezone.localtime(item.last_login).strftime("%Y-%m-%d %H:%M")
            if item.last_login
            else ""
        )
        return {
            "username": item.username,
            "display_name": item.display_name,
            "phone": item.phone or "",
            "organization_code": organization.code if organization else "",
            "organization_name": organization.name if organization else "",
            "roles": "、".join(role_names),
            "is_active": gettext("Yes") if item.is_active else gettext("No"),
            "last_login": last_login,
        }

    def order_queryset(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        if self.ordering in ("name", "-name"):
            prefix = "-" if self.ordering.startswith("-") else ""
            return queryset.order_by(f"{prefix}display_name", "username")
        return super(wagtail_users.IndexView, self).order_queryset(queryset)


class ScopedObjectMixin:
    """Look up the member only among those the current user may act on (404 otherwise).

    Out of scope is "not found", never "forbidden" or a page that names the account,
    so enumerating primary keys reveals nothing.
    """

    scope_action = "change"

    def get_object(self, queryset: QuerySet[Member] | None = None) -> Member:
        allowed = _member_policy().instances_user_has_permission_for(
            self.request.user, self.scope_action
        )
        return get_object_or_404(allowed, pk=unquote(str(self.kwargs[self.pk_url_kwarg])))


class MemberCreateView(wagtail_users.CreateView):
    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["for_user"] = self.request.user
        return kwargs

    def save_instance(self) -> Member:
        form = self.form
        data = form.cleaned_data
        role_names = [group.name for group in data["groups"]] if "groups" in data else None
        member = services.member_create(
            username=data["username"],
            display_name=data["display_name"],
            organization=data.get("organization"),
            phone=data.get("phone"),
            password=data.get("password1") or None,
            party_joined_on=data.get("party_joined_on"),
            role_names=role_names or [roles.MEMBER],
            created_by=self.request.user,
        )
        member.email = data.get("email") or ""
        member.is_active = data.get("is_active", True)
        member.is_superuser = bool(data.get("is_superuser"))
        member.save(update_fields=["email", "is_active", "is_superuser"])
        return member


class MemberEditView(ScopedObjectMixin, wagtail_users.EditView):
    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["for_user"] = self.request.user
        return kwargs

    @cached_property
    def header_more_buttons(self) -> list[Button]:
        """Administrators may erase another member's personal data (docs/privacy.md)."""
        buttons = list(super().header_more_buttons)
        if user_is_administrator(self.request.user) and self.object.pk != self.request.user.pk:
            buttons.append(
                Button(
                    _("Erase personal data"),
                    url=reverse("learning_member_erase", args=[self.object.pk]),
                    icon_name="bin",
                    priority=30,
                )
            )
        return buttons

    def save_instance(self) -> Member:
        form = self.form
        new_organization = form.cleaned_data.get("organization")
        moved = "organization" in form.changed_data and new_organization is not None
        if moved:
            # The form must not move the member; the transfer service records history.
            form.instance.organization = Member.objects.get(pk=form.instance.pk).organization
        member = super().save_instance()
        password = form.cleaned_data.get("password1")
        if password:
            services.member_password_assign(member=member, password=password, by=self.request.user)
            if member.pk == self.request.user.pk:
                update_session_auth_hash(self.request, member)
        if moved:
            services.member_transfer(
                member=member,
                to=new_organization,
                on=timezone.localdate(),
                by=self.request.user,
                note=str(_("Changed in the admin")),
            )
            member.refresh_from_db()
        return member


class MemberDeleteView(ScopedObjectMixin, wagtail_users.DeleteView):
    """Deletes only accounts without points; others are deactivated instead."""

    scope_action = "delete"

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            services.member_delete_check(member=self.object)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect(self.get_success_url())
        return super().form_valid(form)

    def delete_action(self) -> None:
        with transaction.atomic():
            services.member_delete_check(member=self.object)
            services.member_headcount_release(member=self.object)
            super().delete_action()


class MemberHistoryView(ScopedObjectMixin, wagtail_users.HistoryView):
    scope_action = "view"


class MemberUsageView(ScopedObjectMixin, UsageView):
    scope_action = "view"


class ScopedMemberBulkActionMixin:
    """Bulk actions look members up only among those the user may see.

    Wagtail's look up any primary key and list the ones the user may not change by name,
    which told a secretary the names of accounts anywhere. Members outside the user's
    scope are left out as if they did not exist (404 when none is left).
    """

    request: Any

    def get_queryset(self, model: type[Member], object_ids: Iterable[Any]) -> list[Member]:
        visible = _member_policy().instances_user_has_permission_for(self.request.user, "view")
        if isinstance(object_ids, list):
            object_ids = [pk for pk in object_ids if str(pk).isdigit()]
        return get_list_or_404(visible, pk__in=object_ids)

    def _may_change(self, member: Member) -> bool:
        return _member_policy().user_has_permission_for_instance(
            self.request.user, "change", member
        )


class MemberSetActiveStateBulkAction(
    ScopedMemberBulkActionMixin, wagtail_bulk_actions.SetActiveStateBulkAction
):
    def check_perm(self, obj: Member) -> bool:
        return self._may_change(obj)


class MemberAssignRoleBulkAction(
    ScopedMemberBulkActionMixin, wagtail_bulk_actions.AssignRoleBulkAction
):
    def check_perm(self, obj: Member) -> bool:
        return can_assign_roles(self.request.user) and self._may_change(obj)


class MemberDeleteBulkAction(ScopedMemberBulkActionMixin, wagtail_bulk_actions.DeleteBulkAction):
    """Deletes like the delete view: never accounts with points, headcounts kept right."""

    def check_perm(self, obj: Member) -> bool:
        if not user_can_delete_user(self.request.user, obj):
            return False
        return not PointsEntry.objects.filter(member=obj).exists()

    @classmethod
    def execute_action(cls, objects: list[Member], **kwargs: Any) -> tuple[int, int]:
        for member in objects:
            services.member_delete(member=member)
        return len(objects), 0


MEMBER_BULK_ACTIONS = [
    MemberSetActiveStateBulkAction,
    MemberAssignRoleBulkAction,
    MemberDeleteBulkAction,
]


class MemberViewSet(wagtail_users.UserViewSet):
    """Accounts: administrators manage everyone; secretaries their own subtree."""

    menu_label = _("Members")
    icon = "group"
    add_to_settings_menu = False
    menu_order = 210
    template_prefix = "learning/admin/members/"
    filterset_class = MemberFilterSet
    index_view_class = MemberIndexView
    add_view_class = MemberCreateView
    edit_view_class = MemberEditView
    delete_view_class = MemberDeleteView
    history_view_class = MemberHistoryView
    usage_view_class = MemberUsageView
    # Wagtail's generic copy view would build the create form without ``for_user`` (a 500)
    # and save through the form instead of ``services.member_create``: accounts are added,
    # never copied.
    copy_view_enabled = False

    def get_form_class(self, for_update: bool = False) -> type:
        return MemberEditForm if for_update else MemberCreateForm
