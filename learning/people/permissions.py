"""Who may do what to members: the scoped admin policy and the role permission sync."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps as global_apps
from django.db.models import Q, QuerySet
from wagtail.permission_policies import ModelPermissionPolicy

from learning.models import Member
from learning.people import roles
from learning.people.selectors import (
    member_is_privileged,
    organizations_visible_to,
    user_is_administrator,
)

logger = logging.getLogger(__name__)

# What a branch secretary may do to the members of their subtree. Deleting an
# account would erase its learning history, so only administrators can.
SECRETARY_ACTIONS = {"add", "change", "view"}
SECRETARY_PERMISSION = "learning.manage_org_members"


class MemberPermissionPolicy(ModelPermissionPolicy):
    """Model permissions for administrators; subtree-scoped rights for secretaries.

    A secretary (``learning.manage_org_members``) may add, view and change members
    whose organisation lies in one of their assigned subtrees, except accounts that
    hold a staff role or are superusers: those only administrators may touch.
    """

    def _is_secretary(self, user: Any) -> bool:
        return bool(
            user.is_authenticated and user.is_active and user.has_perm(SECRETARY_PERMISSION)
        )

    def user_has_permission(self, user: Any, action: str) -> bool:
        if super().user_has_permission(user, action):
            return True
        return action in SECRETARY_ACTIONS and self._is_secretary(user)

    def users_with_any_permission(self, actions: list[str]) -> QuerySet[Member]:
        users = super().users_with_any_permission(actions)
        if not SECRETARY_ACTIONS.intersection(actions):
            return users
        app_label, codename = SECRETARY_PERMISSION.split(".")
        secretaries = Member.objects.filter(
            Q(
                groups__permissions__codename=codename,
                groups__permissions__content_type__app_label=app_label,
            )
            | Q(
                user_permissions__codename=codename,
                user_permissions__content_type__app_label=app_label,
            ),
            is_active=True,
        )
        return (users | secretaries).distinct()

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Member) -> bool:
        if super().user_has_permission(user, action):
            return True
        if action not in SECRETARY_ACTIONS or not self._is_secretary(user):
            return False
        if instance.organization_id is None:
            return False
        if not organizations_visible_to(user).filter(pk=instance.organization_id).exists():
            return False
        if action == "view":
            return True
        return not member_is_privileged(instance)

    def instances_user_has_any_permission_for(
        self, user: Any, actions: list[str]
    ) -> QuerySet[Member]:
        if any(super(MemberPermissionPolicy, self).user_has_permission(user, a) for a in actions):
            return Member.objects.all()
        if not SECRETARY_ACTIONS.intersection(actions) or not self._is_secretary(user):
            return Member.objects.none()
        visible = Member.objects.filter(organization__in=organizations_visible_to(user))
        if "view" in actions:
            return visible
        return visible.filter(is_superuser=False).exclude(groups__name__in=roles.STAFF_ROLES)

    def users_with_any_permission_for_instance(
        self, actions: list[str], instance: Member
    ) -> QuerySet[Member]:
        users = super().users_with_any_permission(actions)
        if instance.organization is None or not SECRETARY_ACTIONS.intersection(actions):
            return users
        ancestors = [instance.organization, *instance.organization.get_ancestors()]
        secretaries = Member.objects.filter(
            secretary_of__organization__in=ancestors, is_active=True
        )
        return (users | secretaries).distinct()


def can_unlock_logins(user: Any) -> bool:
    """Administrators (who may change any account) see failed logins and unlock them."""
    return bool(
        user.is_authenticated and user.is_active and user.has_perm("learning.change_member")
    )


def can_assign_roles(user: Any) -> bool:
    """Only administrators grant roles; secretaries must not be able to raise privileges."""
    return user_is_administrator(user) or user.has_perm("auth.change_group")


def _permission_objects(spec: str, permission_model: Any) -> QuerySet[Any]:
    app_label, _dot, codename = spec.partition(".")
    queryset = permission_model.objects.filter(content_type__app_label=app_label)
    if codename != "*":
        queryset = queryset.filter(codename=codename)
    return queryset


def roles_sync_permissions(apps: Any = global_apps) -> None:
    """Add each role's declared permissions to its group (never removes any)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role_name, specs in roles.ROLE_PERMISSIONS.items():
        group = group_model.objects.filter(name=role_name).first()
        if group is None:
            continue
        wanted: list[Any] = []
        for spec in specs:
            wanted.extend(_permission_objects(spec, permission_model))
        if wanted:
            group.permissions.add(*wanted)


def roles_sync_permissions_after_migrate(sender: Any, **kwargs: Any) -> None:
    """``post_migrate`` receiver: permissions of every app exist by now."""
    apps = kwargs.get("apps") or global_apps
    try:
        apps.get_model("auth", "Group")
    except LookupError:
        return
    roles_sync_permissions(apps)
