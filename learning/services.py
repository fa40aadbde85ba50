"""Write-side services for organisations and members.

These functions are the only place that creates members, moves them between
organisations or changes the organisation tree; views, the admin, importers and
management commands all call them.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning import roles
from learning.models import Member, Membership, Organization, OrganizationSecretary


def organization_create(
    *,
    name: str,
    code: str,
    kind: str,
    parent: Organization | None = None,
    sort_order: int = 0,
    is_active: bool = True,
) -> Organization:
    """Add an organisation under ``parent`` (or as a root) in sort order."""
    organization = Organization(
        name=name, code=code, kind=kind, sort_order=sort_order, is_active=is_active
    )
    organization.full_clean(exclude=["path", "depth", "numchild"])
    with transaction.atomic():
        if parent is None:
            return Organization.add_root(instance=organization)
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        return parent.add_child(instance=organization)


def organization_update(
    *, organization: Organization, parent: Organization | None, **fields: object
) -> Organization:
    """Change an organisation's fields and, if ``parent`` changed, move its subtree."""
    for name, value in fields.items():
        setattr(organization, name, value)
    organization.full_clean(exclude=["path", "depth", "numchild"])
    with transaction.atomic():
        organization.save()
        current_parent = organization.get_parent(update=True)
        if parent is not None and parent.path.startswith(organization.path):
            raise ValidationError({"parent": _("An organisation cannot be moved under itself.")})
        parent_changed = (current_parent.pk if current_parent else None) != (
            parent.pk if parent else None
        )
        if parent_changed or "sort_order" in fields:
            if parent is None:
                first_root = Organization.get_first_root_node()
                organization.move(first_root, pos="sorted-sibling")
            else:
                organization.move(parent, pos="sorted-child")
            organization.refresh_from_db()
    return organization


@transaction.atomic
def member_create(
    *,
    username: str,
    display_name: str,
    organization: Organization | None,
    phone: str | None = None,
    password: str | None = None,
    party_joined_on: datetime.date | None = None,
    joined_on: datetime.date | None = None,
    role_names: list[str] | None = None,
    must_change_password: bool = False,
    created_by: Member | None = None,
) -> Member:
    """Create a member, their first membership and their roles (default: member)."""
    member = Member(
        username=username,
        display_name=display_name,
        phone=phone or None,
        organization=organization,
        party_joined_on=party_joined_on,
        must_change_password=must_change_password,
    )
    if password:
        member.set_password(password)
    else:
        member.set_unusable_password()
    member.full_clean(exclude=["password"])
    member.save()
    if organization is not None:
        membership_start(
            member=member,
            organization=organization,
            on=joined_on or timezone.localdate(),
            by=created_by,
        )
    member_set_roles(member=member, role_names=role_names or [roles.MEMBER])
    return member


def member_set_roles(*, member: Member, role_names: list[str]) -> None:
    """Give ``member`` exactly the named roles (the groups must exist)."""
    groups = list(Group.objects.filter(name__in=role_names))
    missing = set(role_names) - {group.name for group in groups}
    if missing:
        raise ValidationError(_("Unknown role: %(names)s") % {"names": ", ".join(sorted(missing))})
    member.groups.set(groups)


def membership_start(
    *,
    member: Member,
    organization: Organization,
    on: datetime.date,
    by: Member | None = None,
    note: str = "",
) -> Membership:
    """Record that ``member`` belongs to ``organization`` from ``on`` (no current one yet)."""
    return Membership.objects.create(
        member=member, organization=organization, start_date=on, created_by=by, note=note
    )


@transaction.atomic
def member_transfer(
    *,
    member: Member,
    to: Organization,
    on: datetime.date | None = None,
    by: Member | None = None,
    note: str = "",
) -> Membership:
    """Move ``member`` to organisation ``to`` from date ``on`` (default today), keeping history.

    The current membership ends on ``on`` (exclusive) and a new one starts that day,
    so "where was this member on date D" always has one answer.
    """
    on = on or timezone.localdate()
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not to.is_active:
        raise ValidationError({"organization": _("The organisation is no longer active.")})
    current = Membership.objects.filter(member=member, end_date__isnull=True).first()
    if current is not None:
        if current.organization_id == to.pk:
            raise ValidationError(
                {"organization": _("The member already belongs to this organisation.")}
            )
        if on < current.start_date:
            raise ValidationError(
                {
                    "on": _("The transfer date cannot be before %(date)s.")
                    % {"date": current.start_date.isoformat()}
                }
            )
        if on == current.start_date:
            # A period of zero days never existed: correct the current one in place.
            current.organization = to
            current.note = note or current.note
            current.save(update_fields=["organization", "note"])
            member.organization = to
            member.save(update_fields=["organization"])
            return current
        current.end_date = on
        current.save(update_fields=["end_date"])
    membership = membership_start(member=member, organization=to, on=on, by=by, note=note)
    member.organization = to
    member.save(update_fields=["organization"])
    return membership


def secretary_assign(*, member: Member, organization: Organization) -> OrganizationSecretary:
    """Make ``member`` a secretary of ``organization``'s subtree (idempotent)."""
    with transaction.atomic():
        assignment, _created = OrganizationSecretary.objects.get_or_create(
            member=member, organization=organization
        )
        secretary_group = Group.objects.get(name=roles.SECRETARY)
        member.groups.add(secretary_group)
    return assignment


def member_set_password(*, member: Member, password: str) -> None:
    """Set a member's own new password and clear the forced-change flag."""
    member.set_password(password)
    member.must_change_password = False
    member.save(update_fields=["password", "must_change_password"])
