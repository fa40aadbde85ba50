"""Integrity flags in the member's data export, and their names in others' flags on erasure.

The export lists what the member is told about their flags: what was seen, about what,
when, and the outcome. The evidence stays out: a flag of shared answers names the other
member. On erasure the member's own flags keep their outcome (it decided points); the
flags of members they shared answers with carry their name in the evidence, which
becomes the pseudonym.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import IntegrityFlag, Member, Membership
from learning.people.privacy import (
    EXPORT_CHUNK,
    PersonalDataSection,
    local_time,
    personal_data_section_register,
)


def _flags(member: Member) -> Iterator[dict[str, Any]]:
    flags = IntegrityFlag.objects.filter(member=member).order_by("raised_at", "pk")
    for flag in flags.iterator(chunk_size=EXPORT_CHUNK):
        yield {
            _("What was seen"): str(flag.get_kind_display()),
            _("Concerning"): flag.subject_label,
            _("Raised at"): local_time(flag.raised_at),
            _("Outcome"): str(flag.get_status_display()),
            _("Reviewed at"): local_time(flag.reviewed_at),
        }


def _names_in_evidence_replace(member: Member, former_name: str) -> int:
    """Shared answers are only ever found within one organisation, so only flags raised
    in the organisations the member belonged to can name them."""
    if not former_name or former_name == member.display_name:
        return 0
    organizations = Membership.objects.filter(member=member).values("organization")
    flags = IntegrityFlag.objects.filter(
        kind=IntegrityFlag.Kind.SHARED_ANSWERS,
        organization__in=organizations,
        evidence__other=former_name,
    ).exclude(member=member)
    changed = 0
    for flag in flags.iterator(chunk_size=EXPORT_CHUNK):
        IntegrityFlag.objects.filter(pk=flag.pk).update(
            evidence={**flag.evidence, "other": member.display_name}
        )
        changed += 1
    return changed


def integrity_section_register() -> None:
    personal_data_section_register(
        PersonalDataSection(
            key="integrity_flags",
            label=gettext_lazy("Integrity reviews"),
            rows=_flags,
            erase=_names_in_evidence_replace,
        )
    )
