"""Who sees which flags: administrators all, a secretary their subtree, nobody else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from learning.models import IntegrityFlag, Member
from learning.people.selectors import organizations_visible_to, user_is_administrator

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

REVIEW_PERMISSION = "learning.review_integrityflag"


def can_review_flags(user: Member | AnonymousUser) -> bool:
    """Secretaries and administrators (whose role holds every ``learning`` permission).

    Asked by the admin menu on every page: Django's cached permissions, no query of its own.
    """
    return bool(user.is_authenticated and user.is_active and user.has_perm(REVIEW_PERMISSION))


def flags_visible_to(user: Member | AnonymousUser) -> QuerySet[IntegrityFlag]:
    """The flags ``user`` may see and decide: by the organisation the member was in.

    Never their own (a secretary is a member of their subtree too): those go to the
    secretaries above them and to the administrators. Superusers alone see everything.
    """
    if not can_review_flags(user):
        return IntegrityFlag.objects.none()
    flags = IntegrityFlag.objects.all()
    if user.is_superuser:
        return flags
    flags = flags.exclude(member_id=user.pk)
    if user_is_administrator(user):
        return flags
    return flags.filter(organization__in=organizations_visible_to(user))


def open_flags_count(user: Member | AnonymousUser) -> int:
    return flags_visible_to(user).filter(status=IntegrityFlag.Status.OPEN).count()


def subject_flags_open(subject_key: str) -> QuerySet[IntegrityFlag]:
    return IntegrityFlag.objects.filter(subject_key=subject_key, status=IntegrityFlag.Status.OPEN)
