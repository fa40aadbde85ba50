"""Read-side queries about organisations and members that several callers need."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from learning.models import Member, Membership, Organization
from learning.people import roles

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def user_is_administrator(user: Member | AnonymousUser) -> bool:
    """Superusers and members of the administrator role see every organisation."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=roles.ADMINISTRATOR).exists()


def user_role_names(user: Member) -> list[str]:
    """The names of the roles (groups) a user holds, in the order roles are declared."""
    held = set(user.groups.values_list("name", flat=True))
    ordered = [name for name in roles.ALL_ROLES if name in held]
    return ordered + sorted(held - set(ordered))


def subtrees_q(organizations: list[Organization], prefix: str = "") -> Q:
    """A filter matching every organisation at or below any of ``organizations``.

    ``prefix`` targets a relation, e.g. ``"organization__"`` to filter members.
    """
    condition = Q(pk__in=[])
    for organization in organizations:
        condition |= Q(**{f"{prefix}path__startswith": organization.path})
    return condition


def touching_subtrees_q(root_paths: Iterable[str], prefix: str = "") -> Q:
    """Organisations inside any subtree at ``root_paths``, or above one of them.

    What reaches a secretary whose subtrees start at ``root_paths``: study assigned, or a
    quiz meant, to an organisation there or to one above it (a committee-wide exam).
    ``prefix`` targets a relation, e.g. ``"organization__"`` on an audience's rows.
    """
    inside = Q(pk__in=[])
    above: set[str] = set()
    for path in root_paths:
        inside |= Q(**{f"{prefix}path__startswith": path})
        above.update(
            path[:end] for end in range(Organization.steplen, len(path), Organization.steplen)
        )
    return inside | Q(**{f"{prefix}path__in": above})


def secretary_roots(user: Member | AnonymousUser) -> QuerySet[Organization]:
    """The organisations ``user`` is secretary of: the tops of their subtrees, by path."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(secretaries__member=user).distinct().order_by("path")


def organizations_visible_to(user: Member | AnonymousUser) -> QuerySet[Organization]:
    """The organisations whose members, progress and results ``user`` may see.

    Administrators see all; a branch secretary sees the subtrees they are assigned to;
    everybody else (including an ordinary member) sees none through this selector.
    """
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    if user_is_administrator(user):
        return Organization.objects.all()
    if not user.has_perm("learning.manage_org_members"):
        return Organization.objects.none()
    assigned = list(secretary_roots(user).only("path", "depth"))
    if not assigned:
        return Organization.objects.none()
    return Organization.objects.filter(subtrees_q(assigned))


def members_visible_to(user: Member | AnonymousUser) -> QuerySet[Member]:
    """The members in the organisations ``user`` may see (see ``organizations_visible_to``)."""
    if not user.is_authenticated or not user.is_active:
        return Member.objects.none()
    if user_is_administrator(user):
        return Member.objects.all()
    visible = organizations_visible_to(user)
    return Member.objects.filter(organization__in=visible)


def member_is_privileged(member: Member) -> bool:
    """True for accounts only an administrator may edit (superusers and staff roles)."""
    if member.is_superuser:
        return True
    return member.groups.filter(name__in=roles.STAFF_ROLES).exists()


def member_organization_on(*, member: Member, day: datetime.date) -> Organization | None:
    """The organisation ``member`` belonged to on ``day`` (None before they joined)."""
    membership = (
        Membership.objects.filter(member=member, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
        .select_related("organization")
        .first()
    )
    return membership.organization if membership else None


def organization_member_count_on(*, organization: Organization, day: datetime.date) -> int:
    """How many members belonged to ``organization``'s subtree on ``day``."""
    return (
        Membership.objects.filter(start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
        .filter(organization__in=organization.subtree())
        .values("member")
        .distinct()
        .count()
    )


def organizations_as_indented_list(
    queryset: QuerySet[Organization] | None = None,
) -> list[tuple[Organization, int]]:
    """Organisations in tree order with their depth relative to the shallowest one."""
    if queryset is None:
        queryset = Organization.objects.all()
    organizations = list(queryset.order_by("path"))
    if not organizations:
        return []
    top = min(organization.depth for organization in organizations)
    return [(organization, organization.depth - top) for organization in organizations]


def organizations_above(organizations: Iterable[Organization]) -> dict[str, Organization]:
    """Every organisation at or above one of ``organizations``, by path (one query).

    What ``nearest_branch`` looks branches up in, for a report that rolls many members up.
    """
    paths = {path for organization in organizations for path in organization.ancestor_paths()}
    return {
        organization.path: organization
        for organization in Organization.objects.filter(path__in=paths)
    }


def nearest_branch(organization: Organization, by_path: dict[str, Organization]) -> Organization:
    """The nearest branch at or above ``organization`` (a party group rolls up to its
    branch), or ``organization`` itself when there is none; ``by_path`` is
    ``organizations_above`` of the organisations asked about."""
    for path in reversed(organization.ancestor_paths()):
        candidate = by_path.get(path)
        if candidate is not None and candidate.kind == Organization.Kind.BRANCH:
            return candidate
    return organization
