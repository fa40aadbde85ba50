"""Wagtail admin views for members: Wagtail's user admin, scoped and service-backed.

Registered in place of Wagtail's own user viewset (``learning.apps.MembersAdminConfig``),
so there is one place to manage accounts. The permission policy
(``learning.permissions.MemberPermissionPolicy``) decides who may see and edit whom;
the views narrow every list and lookup to what the policy allows.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import BooleanRadioSelect, WagtailFilterSet
from wagtail.admin.ui.tables import BooleanColumn, BulkActionsCheckboxColumn, Column, DateColumn
from wagtail.permissions import policy_registry
from wagtail.users.views import users as wagtail_users

from learning import roles, services
from learning.admin_forms import MemberCreateForm, MemberEditForm, OrganizationChoiceField
from learning.models import Member, Organization
from learning.selectors import organizations_visible_to, subtrees_q


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


class MemberIndexView(wagtail_users.IndexView):
    page_title = _("Members")
    add_item_label = _("Add a member")
    search_fields = ["username", "display_name", "phone"]

    @cached_property
    def columns(self) -> list[Column]:
        title_column = self._get_title_column_class(wagtail_users.UserColumn)
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type="user"),
            title_column(
                "name",
                accessor="display_name",
                label=_("name"),
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
            BooleanColumn("is_active", label=_("active"), sort_key="is_active", width="8%"),
            DateColumn("last_login", label=_("Last login"), sort_key="last_login", width="12%"),
        ]

    def get_base_queryset(self) -> QuerySet[Member]:
        visible = _member_policy().instances_user_has_permission_for(self.request.user, "view")
        return visible.select_related("organization", "wagtail_userprofile")

    def order_queryset(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        if self.ordering in ("name", "-name"):
            prefix = "-" if self.ordering.startswith("-") else ""
            return queryset.order_by(f"{prefix}display_name", "username")
        return super(wagtail_users.IndexView, self).order_queryset(queryset)


class ScopedObjectMixin:
    """Look up the member only among those the current user may act on (404 otherwise)."""

    permission_required: str

    def get_object(self, queryset: QuerySet[Member] | None = None) -> Member:
        action = "change" if self.permission_required == "change" else self.permission_required
        allowed = _member_policy().instances_user_has_permission_for(self.request.user, action)
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

    def save_instance(self) -> Member:
        form = self.form
        new_organization = form.cleaned_data.get("organization")
        moved = "organization" in form.changed_data and new_organization is not None
        if moved:
            # The form must not move the member; the transfer service records history.
            form.instance.organization = Member.objects.get(pk=form.instance.pk).organization
        member = super().save_instance()
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
    # Wagtail's history view names no single permission (it asks for any of add, change,
    # delete), which left the scoped lookup asking for none and answering 404 to everyone.
    # A member's history is as private as their account: whoever may change it.
    permission_required = "change"


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
    # Wagtail's generic copy view would build the create form without ``for_user`` (a 500)
    # and save through the form instead of ``services.member_create``: accounts are added,
    # never copied.
    copy_view_enabled = False

    def get_form_class(self, for_update: bool = False) -> type:
        return MemberEditForm if for_update else MemberCreateForm
