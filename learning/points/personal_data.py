"""The member's ledger entries in their data export (``learning.people.privacy``).

Erasure changes nothing here: the ledger is append-only (``learning/points/db.py``) and
its rows point at the account, whose name the erasure has already replaced. A reversal's
reason is written by an administrator about the entry, and stays with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import Member, PointsEntry
from learning.people.privacy import (
    EXPORT_CHUNK,
    PersonalDataSection,
    day_text,
    local_time,
    personal_data_section_register,
)


def _entries(member: Member) -> Iterator[dict[str, Any]]:
    entries = (
        PointsEntry.objects.filter(member=member)
        .select_related("rule", "organization")
        .order_by("id")
    )
    for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
        yield {
            _("Date"): day_text(entry.local_date),
            _("Recorded at"): local_time(entry.created_at),
            _("Points"): entry.points,
            _("Reason"): entry.rule.display_name,
            _("Remark"): entry.note,
            _("Correction of entry"): entry.reverses_id,
            _("Entry"): entry.pk,
            _("Organisation"): entry.organization.name,
        }


def ledger_section_register() -> None:
    personal_data_section_register(
        PersonalDataSection(key="ledger", label=gettext_lazy("Points ledger"), rows=_entries)
    )
