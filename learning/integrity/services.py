"""Raising a flag, and a reviewer's decision on it (dismiss or confirm), audited.

``flag_raise`` is idempotent per (member, kind, subject): a signal seen twice raises one
flag. ``flag_decide`` takes the flag's row lock, so two reviewers deciding at once (or a
double click) decide once: the second is told it was decided already. The subject's own
app (``learning.integrity.subjects``) then awards the held points (dismissed) or
discards them and reverses what was awarded (confirmed), in the same transaction, and
the decision goes into the member's audit log.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.integrity.selectors import flags_visible_to
from learning.integrity.subjects import subject_type_of
from learning.models import IntegrityFlag, Member
from learning.people import audit

logger = logging.getLogger(__name__)

DISMISS = "dismiss"
CONFIRM = "confirm"
# The reason goes into the reversal's note (500 characters) after its prefix.
MAX_NOTE = 450


class FlagDecisionError(Exception):
    """A decision that cannot be taken; ``message`` says why, for the reviewer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def flag_raise(
    *,
    member: Member,
    kind: str,
    subject_key: str,
    subject_label: str,
    evidence: dict[str, Any],
    at: datetime.datetime | None = None,
) -> tuple[IntegrityFlag, bool]:
    """The flag of ``kind`` on ``subject_key`` for ``member``, raised now if it was not."""
    defaults = {
        "organization_id": member.organization_id,
        "subject_label": subject_label[:300],
        "evidence": evidence,
        "raised_at": at or timezone.now(),
    }
    try:
        with transaction.atomic():
            flag, created = IntegrityFlag.objects.get_or_create(
                member=member, kind=kind, subject_key=subject_key, defaults=defaults
            )
    except IntegrityError:  # raised meanwhile by a concurrent request
        flag, created = (
            IntegrityFlag.objects.get(member=member, kind=kind, subject_key=subject_key),
            False,
        )
    if created:
        logger.info("integrity flag %s raised: %s on %s", flag.pk, kind, subject_key)
    return flag, created


def flag_decide(*, flag: IntegrityFlag, by: Member, decision: str, note: str) -> IntegrityFlag:
    """Dismiss or confirm an open flag that ``by`` may review; a confirmation needs a reason."""
    if decision not in (DISMISS, CONFIRM):
        raise FlagDecisionError(_("Choose to dismiss or to confirm the flag."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FlagDecisionError(
            _("The reason is too long (at most %(count)d characters).") % {"count": MAX_NOTE}
        )
    if decision == CONFIRM and not note:
        raise FlagDecisionError(
            _("Give the reason for confirming: the member sees it beside the reversed points.")
        )
    if flag.member_id == by.pk and not by.is_superuser:
        raise PermissionDenied  # nobody reviews their own flags
    if not flags_visible_to(by).filter(pk=flag.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        locked = IntegrityFlag.objects.select_for_update().select_related("member").get(pk=flag.pk)
        if not locked.is_open:
            raise FlagDecisionError(_("This flag has already been decided."))
        status = IntegrityFlag.Status
        locked.status = status.DISMISSED if decision == DISMISS else status.CONFIRMED
        locked.reviewed_by = by
        locked.reviewed_at = timezone.now()
        locked.review_note = note
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        subject_type = subject_type_of(locked)
        if subject_type is not None:
            if decision == DISMISS:
                subject_type.dismissed(locked, by)
            else:
                subject_type.confirmed(locked, by)
        audit.audit_record(
            instance=locked.member,
            action=audit.FLAG_DISMISSED if decision == DISMISS else audit.FLAG_CONFIRMED,
            user=by,
            flag=locked.pk,
            kind=locked.kind,
            subject=locked.subject_label,
            note=note,
        )
    logger.info("integrity flag %s %sed by %s", locked.pk, decision, by.username)
    return locked
