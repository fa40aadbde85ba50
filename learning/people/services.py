"""Write-side services for organisations and members.

These functions are the only place that creates members, moves them between
organisations or changes the organisation tree; views, the admin, importers and
management commands all call them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.common.versions import ledger_versions_touch
from learning.models import (
    Member,
    Membership,
    Organization,
    OrganizationSecretary,
    PointsEntry,
)
from learning.people import audit, roles
from learning.people.hashers import InitialPasswordHasher
from learning.people.headcounts import headcount_branches_refresh, headcount_record


def organization_create(
    *,
    name: str,
    code: str,
    kind: str,
    parent: Organization | None = None,
    sort_order: int = 0,
    is_active: bool = True,
    hide_member_names: bool = False,
) -> Organization:
    """Add an organisation under ``parent`` (or as a root) in sort order."""
    organization = Organization(
        name=name,
        code=code,
        kind=kind,
        sort_order=sort_order,
        is_active=is_active,
        hide_member_names=hide_member_names,
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
        if "hide_member_names" in fields:
            # Cached screen snapshots must not keep showing (or hiding) names.
            path = organization.path
            transaction.on_commit(lambda: ledger_versions_touch(path), robust=True)
        # Tree operations must see current paths and child counts, not stale copies.
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if parent is not None:
            parent = Organization.objects.select_for_update().get(pk=parent.pk)
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
        if parent_changed or "kind" in fields:
            # Members count for the nearest branch above their organisation.
            headcount_branches_refresh()
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
    """Create a member, their first membership and their roles (default: member).

    A password chosen by ``created_by`` (a secretary or an administrator) is temporary:
    the member must replace it at the first login, and the audit log records who set it.
    """
    password_by_other = bool(password) and created_by is not None
    if password_by_other:
        must_change_password = True
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
    if password_by_other:
        audit.audit_record(instance=member, action=audit.PASSWORD_SET_BY_OTHER, user=created_by)
    return member


@dataclass(frozen=True)
class NewMember:
    """One member to create in bulk (see ``members_bulk_create``)."""

    username: str
    display_name: str
    organization: Organization
    phone: str | None = None
    party_joined_on: datetime.date | None = None
    joined_on: datetime.date | None = None
    # A generated initial password of this member's own (see members_bulk_create).
    password: str = ""


@transaction.atomic
def members_bulk_create(
    *,
    people: Sequence[NewMember],
    password: str = "",
    must_change_password: bool = False,
    created_by: Member | None = None,
) -> list[Member]:
    """Create many members, all or none, each with their own password or one shared one.

    Keeps what ``member_create`` keeps — each member validated, exactly one open
    membership in their organisation, the member role — in a few bulk statements. A
    member's own ``NewMember.password`` (a generated initial password) is hashed with the
    cheap ``learning.people.hashers.InitialPasswordHasher``, which is safe only for random
    passwords; a shared ``password`` (the demo's) is hashed once with the default hasher:
    hashing per member with PBKDF2 (~0.4 s each) would make a 5,000-row import take half
    an hour. The caller checks uniqueness up front for good messages; the database
    constraints still enforce it.
    """
    if not password and not all(person.password for person in people):
        raise ValueError("members_bulk_create needs a password for every member")
    shared_hash = make_password(password) if password else ""
    hashes = {
        person.username: make_password(person.password, hasher=InitialPasswordHasher.algorithm)
        if person.password
        else shared_hash
        for person in people
    }
    today = timezone.localdate()
    members = [
        Member(
            username=person.username,
            display_name=person.display_name,
            phone=person.phone or None,
            organization=person.organization,
            party_joined_on=person.party_joined_on,
            password=hashes[person.username],
            must_change_password=must_change_password,
        )
        for person in people
    ]
    for member in members:
        member.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    Member.objects.bulk_create(members, batch_size=500)
    # Read the keys back rather than rely on bulk_create returning them on every backend.
    created = {
        member.username: member
        for member in Member.objects.filter(username__in=[person.username for person in people])
    }
    memberships = [
        Membership(
            member=created[person.username],
            organization=person.organization,
            start_date=person.joined_on or today,
            created_by=created_by,
        )
        for person in people
    ]
    Membership.objects.bulk_create(memberships, batch_size=500)
    headcount_record((m.organization.pk, m.start_date, +1) for m in memberships)
    member_group = Group.objects.get(name=roles.MEMBER)
    through = Member.groups.through
    through.objects.bulk_create(
        [through(member_id=created[p.username].pk, group_id=member_group.pk) for p in people],
        batch_size=500,
    )
    result = [created[person.username] for person in people]
    if must_change_password:
        # An import: somebody else chose (or generated) the initial passwords.
        audit.audit_record_many(members=result, action=audit.PASSWORD_SET_BY_OTHER, user=created_by)
    return result


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
    with transaction.atomic():
        membership = Membership.objects.create(
            member=member, organization=organization, start_date=on, created_by=by, note=note
        )
        headcount_record([(organization.pk, on, +1)])
    return membership


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
            headcount_record([(current.organization_id, on, -1), (to.pk, current.start_date, +1)])
            current.organization = to
            current.note = note or current.note
            current.save(update_fields=["organization", "note"])
            member.organization = to
            member.save(update_fields=["organization"])
            return current
        current.end_date = on
        current.save(update_fields=["end_date"])
    # One call for both organisations: it writes their rows in a fixed order, so two
    # opposite transfers on the same day cannot deadlock on the headcount rows.
    membership = Membership.objects.create(
        member=member, organization=to, start_date=on, created_by=by, note=note
    )
    changes = [(to.pk, on, +1)]
    if current is not None:
        changes.append((current.organization_id, on, -1))
    headcount_record(changes)
    member.organization = to
    member.save(update_fields=["organization"])
    return membership


def member_delete_check(*, member: Member) -> None:
    """Refuse to delete a member whose points are in the ledger (deactivate them instead)."""
    if PointsEntry.objects.filter(member=member).exists():
        raise ValidationError(
            _(
                "%(name)s has points in the ledger, which is kept for good; the account "
                "cannot be deleted. Deactivate it instead (untick “active”)."
            )
            % {"name": member}
        )


@transaction.atomic
def member_delete(*, member: Member) -> None:
    """Delete a member without points, taking their memberships out of the headcounts."""
    member_delete_check(member=member)
    member_headcount_release(member=member)
    member.delete()


def member_headcount_release(*, member: Member) -> None:
    """Take all of ``member``'s memberships out of the headcounts (before deleting them)."""
    changes: list[tuple[int, datetime.date, int]] = []
    for organization_id, start, end in member.memberships.values_list(
        "organization_id", "start_date", "end_date"
    ):
        changes.append((organization_id, start, -1))
        if end is not None:
            changes.append((organization_id, end, +1))
    headcount_record(changes)


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


def member_password_assign(*, member: Member, password: str, by: Member) -> None:
    """Set the password ``by`` chose for ``member`` (an administrator's or secretary's edit).

    Anyone's but the member's own choice is temporary: the member must replace it at the
    next login (web and API), so a secretary cannot quietly use a member's account,
    and the audit log records who set it (never the password).
    """
    if by.pk == member.pk:
        member_set_password(member=member, password=password)
        return
    with transaction.atomic():
        member.set_password(password)
        member.must_change_password = True
        member.save(update_fields=["password", "must_change_password"])
        audit.audit_record(instance=member, action=audit.PASSWORD_SET_BY_OTHER, user=by)
