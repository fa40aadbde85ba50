"""Wagtail admin registration for the learning app: organisations, members, assignments,
points, screens. The views live in each package's admin modules; this file only registers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import LogActionRegistry
from wagtail.permissions import policy_registry
from wagtail.snippets.models import register_snippet

from learning.common.admin_unsent_tasks import unsent_tasks_panel_for
from learning.integrity.admin_flags import IntegrityMenuItem, flag_view, flags_view
from learning.models import Member
from learning.people.admin_logins import LoginLockoutsMenuItem, login_lockouts_view
from learning.people.admin_member_import import (
    MemberImportMenuItem,
    member_import_template_view,
    member_import_view,
)
from learning.people.admin_organisations import OrganizationViewSet, SecretaryViewSet
from learning.people.admin_privacy import member_erase_view
from learning.people.admin_views import MEMBER_BULK_ACTIONS
from learning.people.audit import audit_actions_register
from learning.points.admin_points import LedgerViewSet, PointsRuleViewSet, ScreenViewSet
from learning.study.admin_assignments import AssignmentViewSet, ReportMenuItem


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
def register_member_erase_urls() -> list[Any]:
    return [path("members/<int:pk>/erase/", member_erase_view, name="learning_member_erase")]


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


@hooks.register("register_admin_urls")
def register_integrity_urls() -> list[Any]:
    return [
        path("integrity/", flags_view, name="learning_integrity_flags"),
        path("integrity/<int:pk>/", flag_view, name="learning_integrity_flag"),
    ]


@hooks.register("register_admin_menu_item")
def register_integrity_menu_item() -> MenuItem:
    return IntegrityMenuItem(
        gettext_lazy("Integrity review"),
        reverse("learning_integrity_flags"),
        name="integrity",
        icon_name="warning",
        order=245,
    )


@hooks.register("construct_homepage_panels")
def add_unsent_tasks_panel(request: Any, panels: list[Any]) -> None:
    panel = unsent_tasks_panel_for(request.user)
    if panel is not None:
        panels.append(panel)
