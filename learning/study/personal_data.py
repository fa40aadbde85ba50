"""The member's study in their data export: lessons studied, study time per day, and the
assignments they see now (``learning.people.privacy``). Nothing here is free text the
member wrote, so erasure leaves it as it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from learning.models import LessonProgress, Member, StudyDay
from learning.people.privacy import (
    EXPORT_CHUNK,
    PersonalDataSection,
    day_text,
    local_time,
    personal_data_section_register,
)
from learning.study.assignments import Status, member_assignments


def _lessons(member: Member) -> Iterator[dict[str, Any]]:
    progress = (
        LessonProgress.objects.filter(member=member)
        .select_related("lesson")
        .order_by("first_opened_at", "id")
    )
    for row in progress.iterator(chunk_size=EXPORT_CHUNK):
        yield {
            _("Lesson"): row.lesson.title,
            _("First opened"): local_time(row.first_opened_at),
            _("Last studied"): local_time(row.last_studied_at),
            _("Verified study seconds"): row.verified_seconds,
            _("Read to the end"): row.reached_end,
            _("Video watched (%)"): row.video_percent,
            pgettext("personal data", "Completed at"): local_time(row.completed_at),
        }


def _study_days(member: Member) -> Iterator[dict[str, Any]]:
    days = StudyDay.objects.filter(member=member).order_by("day")
    for row in days.iterator(chunk_size=EXPORT_CHUNK):
        yield {_("Date"): day_text(row.day), _("Verified study seconds"): row.seconds}


def _assignments(member: Member) -> Iterator[dict[str, Any]]:
    for row in member_assignments(member):
        yield {
            _("Assignment"): row.title,
            _("Start date"): day_text(row.assignment.start_date),
            _("Due date"): day_text(row.due_date),
            _("Required"): row.assignment.is_required,
            _("Status"): str(Status(row.status).label),
            _("Completed (%)"): row.percent,
        }


def study_sections_register() -> None:
    for key, label, rows in (
        ("lessons", gettext_lazy("Lessons studied"), _lessons),
        ("study_days", gettext_lazy("Study time per day"), _study_days),
        ("assignments", gettext_lazy("Current assignments"), _assignments),
    ):
        personal_data_section_register(PersonalDataSection(key=key, label=label, rows=rows))
