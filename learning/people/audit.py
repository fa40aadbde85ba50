"""Audit-log entries for logins and passwords, kept in Wagtail's audit log.

Administrators read them in the site history report (报告 › 网站历史) and on each
member's history page; a secretary sees those of their own subtree only
(``learning.models.audit``). An entry records who did what to whom, when, and from
which address: never a password.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogActionRegistry, LogFormatter, log

from learning.models import Member, Organization, SubtreeLogEntry

# Action names, not secrets.
LOGIN_FAILED = "dangjian.login_failed"
LOGIN_LOCKED_OUT = "dangjian.login_locked_out"
LOGIN_UNLOCKED = "dangjian.login_unlocked"
PASSWORD_SET_BY_OTHER = "dangjian.password_set_by_other"  # noqa: S105
PASSWORD_RESET_SENT = "dangjian.password_reset_sent"  # noqa: S105
PASSWORD_RESET_THROTTLED = "dangjian.password_reset_throttled"  # noqa: S105
FLAG_DISMISSED = "dangjian.integrity_flag_dismissed"
FLAG_CONFIRMED = "dangjian.integrity_flag_confirmed"
# A member's data: exported (by whom), erased (by whom; never what it was).
MEMBER_DATA_EXPORTED = "dangjian.member_data_exported"
MEMBER_ERASED = "dangjian.member_erased"


class _FromAddressFormatter(LogFormatter):
    """A message naming the address the request came from (``data["ip"]``)."""

    template: Any = ""

    def format_message(self, log_entry: Any) -> str:
        data = log_entry.data or {}
        return str(self.template) % {
            "ip": data.get("ip") or "?",
            "minutes": data.get("minutes") or 0,
        }


class LoginFailedFormatter(_FromAddressFormatter):
    label = _("Failed login")
    template = _("Failed login from %(ip)s")


class LoginLockedOutFormatter(_FromAddressFormatter):
    label = _("Login locked")
    template = _("Login locked for %(minutes)d minutes after repeated failures from %(ip)s")


class PasswordResetThrottledFormatter(_FromAddressFormatter):
    label = _("Password reset refused")
    template = _("Too many password reset requests (latest from %(ip)s): no email sent")


class _FlagDecisionFormatter(LogFormatter):
    """Which flag was decided and why (``data["subject"]``, ``data["note"]``)."""

    template: Any = ""

    def format_message(self, log_entry: Any) -> str:
        data = log_entry.data or {}
        message = str(self.template) % {"subject": data.get("subject") or "?"}
        note = data.get("note") or ""
        return f"{message}: {note}" if note else message


class FlagDismissedFormatter(_FlagDecisionFormatter):
    label = _("Integrity flag dismissed")
    template = _("Integrity flag on %(subject)s dismissed; held points awarded")


class FlagConfirmedFormatter(_FlagDecisionFormatter):
    label = _("Integrity flag confirmed")
    template = _("Integrity flag on %(subject)s confirmed; its points not counted")


def audit_actions_register(actions: LogActionRegistry) -> None:
    """Register the log model of members and organisations and the actions below."""
    actions.register_model(Member, SubtreeLogEntry)
    actions.register_model(Organization, SubtreeLogEntry)
    actions.register_action(LOGIN_FAILED)(LoginFailedFormatter)
    actions.register_action(LOGIN_LOCKED_OUT)(LoginLockedOutFormatter)
    actions.register_action(LOGIN_UNLOCKED, _("Login unlocked"), _("Login unlocked"))
    actions.register_action(
        PASSWORD_SET_BY_OTHER,
        _("Password set by someone else"),
        _("Password set by someone else; it must be changed at the next login"),
    )
    actions.register_action(
        PASSWORD_RESET_SENT, _("Password reset email"), _("Password reset email sent")
    )
    actions.register_action(PASSWORD_RESET_THROTTLED)(PasswordResetThrottledFormatter)
    actions.register_action(FLAG_DISMISSED)(FlagDismissedFormatter)
    actions.register_action(FLAG_CONFIRMED)(FlagConfirmedFormatter)
    actions.register_action(
        MEMBER_DATA_EXPORTED, _("Personal data exported"), _("Personal data exported")
    )
    actions.register_action(
        MEMBER_ERASED,
        _("Personal data erased"),
        _("Personal data erased; the account remains under a pseudonym"),
    )


def audit_record(
    *, instance: Member | Organization, action: str, user: Member | None = None, **data: Any
) -> None:
    """Add one entry about ``instance``; ``user`` is who acted (None: the system)."""
    log(instance, action, user=user, data=data)


def audit_record_many(
    *, members: Iterable[Member], action: str, user: Member | None = None, **data: Any
) -> None:
    """The same entry for many members in one statement (imports of thousands of rows)."""
    content_type = ContentType.objects.get_for_model(Member)
    now = timezone.now()
    SubtreeLogEntry.objects.bulk_create(
        [
            SubtreeLogEntry(
                content_type=content_type,
                object_id=str(member.pk),
                label=str(member),
                action=action,
                data=data,
                timestamp=now,
                user=user,
            )
            for member in members
        ],
        batch_size=500,
    )
