"""A member's personal data: the copy they download, and erasure on request.

What is stored about a member lives in several layers (the ledger, study progress,
integrity flags, quiz attempts in ``quizzes``), and this module may import none of them
(people → common only). Each owner registers a *section* here
(``personal_data_section_register``, from the app configs' ``ready``): the rows it
exports and what erasing does to its own free text. This module writes the profile,
the organisation history and the audit entries about the member itself.

Erasure pseudonymises, it never deletes: ledger rows, attempts and memberships keep
pointing at the same account, so every total, ranking and headcount stays as it was and
``check_ledger`` still agrees (docs/privacy.md).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from wagtail.users.models import UserProfile

from learning.models import Member, Membership, OrganizationSecretary, SubtreeLogEntry
from learning.people import audit, roles
from learning.people.selectors import user_role_names

logger = logging.getLogger(__name__)

# What an erased account is called from then on: stable, by its id, never its old name.
ERASED_USERNAME = "erased-%d"
ERASED_DISPLAY_NAME = "已注销成员 %d"
# Rows read from the database at a time while the export streams.
EXPORT_CHUNK = 500
# Entries about a member the export lists (newest first); an account's log grows by a
# few entries a year, failed logins at most a lockout's worth per cool-off.
MAX_LOG_ENTRIES = 2000

Rows = Callable[[Member], Iterable[dict[str, Any]]]
Eraser = Callable[[Member, str], int]


@dataclass(frozen=True)
class PersonalDataSection:
    """One part of what is stored about a member, owned by another layer or app.

    ``rows`` yields the member's rows lazily (the export streams them); ``erase``
    handles the free text in the section that may carry personal data, given the
    member and the name they had; it returns how many items it changed.
    """

    key: str
    label: str | Promise
    rows: Rows
    erase: Eraser | None = None


_SECTIONS: dict[str, PersonalDataSection] = {}


def personal_data_section_register(section: PersonalDataSection) -> None:
    """Add (or replace, by key) a section of the export and erasure; kept in order."""
    _SECTIONS[section.key] = section


def personal_data_sections() -> list[PersonalDataSection]:
    return list(_SECTIONS.values())


def local_time(moment: datetime.datetime | None) -> str | None:
    """A moment as the member reads it: local time, to the second, ISO 8601."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def day_text(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _is_erased(member: Member) -> bool:
    return member.username == ERASED_USERNAME % member.pk


# --- export ---------------------------------------------------------------------------


def _profile(member: Member) -> dict[str, Any]:
    organization = member.organization
    return {
        _("Username"): member.username,
        pgettext("personal data", "Name"): member.display_name,
        _("Mobile number"): member.phone or "",
        _("Email"): member.email,
        _("Organisation"): organization.path_display() if organization else "",
        _("Date joined the party"): day_text(member.party_joined_on),
        _("Account created"): local_time(member.date_joined),
        _("Last login"): local_time(member.last_login),
        _("Account active"): member.is_active,
        _("Roles"): [str(roles.ROLE_LABELS.get(name, name)) for name in user_role_names(member)],
    }


def _memberships(member: Member) -> Iterator[dict[str, Any]]:
    memberships = (
        Membership.objects.filter(member=member)
        .select_related("organization")
        .order_by("start_date", "id")
    )
    for membership in memberships.iterator(chunk_size=EXPORT_CHUNK):
        yield {
            _("Organisation"): membership.organization.path_display(),
            pgettext("personal data", "From"): day_text(membership.start_date),
            _("Until"): day_text(membership.end_date),
            _("Remark"): membership.note,
        }


def _secretary_of(member: Member) -> Iterator[dict[str, Any]]:
    assignments = OrganizationSecretary.objects.filter(member=member).select_related("organization")
    for assignment in assignments.order_by("organization__path"):
        yield {
            _("Organisation"): assignment.organization.path_display(),
            _("Assigned at"): local_time(assignment.created_at),
        }


def _log_entries(member: Member) -> Iterator[dict[str, Any]]:
    """The account's audit entries (logins refused, passwords set, …) with their address."""
    entries = SubtreeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id=str(member.pk)
    ).order_by("-timestamp", "-id")[:MAX_LOG_ENTRIES]
    for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
        data = entry.data if isinstance(entry.data, dict) else {}
        yield {
            _("Time"): local_time(entry.timestamp),
            _("What happened"): str(entry.message),
            _("From address"): data.get("ip") or "",
        }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _array(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("\n    " if first else ",\n    ") + _json(row)
        first = False
    yield "]"


def member_data_export(*, member: Member) -> Iterator[str]:
    """Everything stored about ``member`` as one JSON object, in pieces as it is read.

    Streamed so that years of ledger entries and attempts never sit in memory at once;
    the keys are the labels the member reads on the pages, in the active language.
    """
    parts: list[tuple[str, Iterable[dict[str, Any]] | dict[str, Any] | str | None]] = [
        (_("Exported at"), local_time(timezone.now())),
        (pgettext("personal data", "Profile"), _profile(member)),
        (_("Organisation history"), _memberships(member)),
        (_("Secretary of"), _secretary_of(member)),
        (_("Account log"), _log_entries(member)),
    ]
    parts.extend((str(section.label), section.rows(member)) for section in _SECTIONS.values())
    yield "{"
    for index, (label, value) in enumerate(parts):
        yield ("\n  " if index == 0 else ",\n  ") + _json(label) + ": "
        if isinstance(value, dict | str) or value is None:
            yield _json(value)
        else:
            yield from _array(value)
    yield "\n}\n"


def member_data_export_record(*, member: Member, by: Member | None) -> None:
    """Note in the member's audit log that their data was exported, and by whom."""
    audit.audit_record(instance=member, action=audit.MEMBER_DATA_EXPORTED, user=by)


# --- erasure --------------------------------------------------------------------------


@dataclass
class ErasureResult:
    """What ``member_erase`` did: ``changed`` counts items per part (sessions, …)."""

    member_id: int
    already_erased: bool
    changed: dict[str, int] = field(default_factory=dict)


def _sessions_end(member: Member) -> int:
    """Delete the member's stored sessions; returns how many.

    Whatever store holds sessions, the unusable password already ends them at the next
    request (Django checks each session's password hash). Stores that keep sessions in
    the database (``db``, ``cached_db``) are searched too, so none is left behind.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return 0
    model = store_class.get_model_class()
    owner = str(member.pk)
    keys = []
    live = model.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for session in live.iterator(chunk_size=EXPORT_CHUNK):
        data = store_class().decode(session.session_data)
        if str(data.get("_auth_user_id")) == owner:
            keys.append(session.session_key)
    store = store_class()
    for key in keys:
        store.delete(key)
    return len(keys)


def _login_records_delete(names: set[str]) -> int:
    """django-axes keeps failed and successful logins by the name typed (the username,
    or a mobile number that matched no account)."""
    deleted = 0
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        count, _per_model = model.objects.filter(username__in=names).delete()
        deleted += count
    return deleted


def _log_entries_pseudonymise(member: Member) -> int:
    """Entries about the account keep what happened and when, under the pseudonym; the
    address a refused login came from is dropped."""
    entries = SubtreeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id=str(member.pk)
    )
    changed = entries.exclude(label=str(member)).update(label=str(member))
    for entry in entries.filter(data__has_key="ip").iterator(chunk_size=EXPORT_CHUNK):
        data = {key: value for key, value in entry.data.items() if key != "ip"}
        SubtreeLogEntry.objects.filter(pk=entry.pk).update(data=data)
        changed += 1
    return changed


def _avatar_delete(member: Member) -> int:
    profile = UserProfile.objects.filter(user=member).first()
    if profile is None or not profile.avatar:
        return 0
    storage, name = profile.avatar.storage, profile.avatar.name
    profile.avatar = ""
    profile.save(update_fields=["avatar"])
    # The file goes once the erasure has committed: a rollback must not lose it.
    transaction.on_commit(lambda: storage.delete(name))
    return 1


def _account_pseudonymise(member: Member) -> None:
    """The account's own fields: the pseudonym, nothing to log in with, no privileges."""
    member.username = ERASED_USERNAME % member.pk
    member.display_name = ERASED_DISPLAY_NAME % member.pk
    member.first_name = ""
    member.last_name = ""
    member.phone = None
    member.email = ""
    member.party_joined_on = None
    member.is_active = False
    member.is_staff = False
    member.is_superuser = False
    member.must_change_password = False
    member.set_unusable_password()
    member.save()


def member_erase(*, member: Member, by: Member | None) -> ErasureResult:
    """Erase ``member``'s personal data, keeping the account as a pseudonymous row.

    Name, username, mobile number and email become ``已注销成员 <id>`` / ``erased-<id>``
    / nothing; the password becomes unusable, the account inactive with no roles; its
    sessions, login records and avatar are removed; each registered section handles its
    own free text (short answers, names in others' flags). Ledger rows, attempts and
    memberships stay, so totals, rankings and headcounts do not move. Erasing again
    changes nothing and adds no second audit entry; the one entry says who erased,
    never what was erased.
    """
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        already = _is_erased(locked)
        former_name = locked.display_name
        login_names = {locked.username, *([locked.phone] if locked.phone else [])}
        # Again only if the account was brought back to life since (a password set).
        if not already or locked.is_active or locked.has_usable_password():
            _account_pseudonymise(locked)
        locked.groups.clear()
        locked.user_permissions.clear()
        result = ErasureResult(member_id=locked.pk, already_erased=already)
        result.changed["secretary_assignments"], _by_model = OrganizationSecretary.objects.filter(
            member=locked
        ).delete()
        result.changed["login_records"] = _login_records_delete(login_names)
        result.changed["log_entries"] = _log_entries_pseudonymise(locked)
        result.changed["avatar"] = _avatar_delete(locked)
        for section in _SECTIONS.values():
            if section.erase is not None:
                result.changed[section.key] = section.erase(locked, former_name)
        result.changed["sessions"] = _sessions_end(locked)
        if not already:
            audit.audit_record(instance=locked, action=audit.MEMBER_ERASED, user=by)
    logger.info(
        "member %s erased by %s%s",
        locked.pk,
        by.username if by is not None else "the system",
        " (already erased)" if already else "",
    )
    member.refresh_from_db()
    return result
