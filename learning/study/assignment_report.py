"""The completion report of one assignment, per branch and per member, and its .xlsx export.

A secretary sees only the members of their own subtree (``organizations_visible_to``);
an administrator sees everyone targeted. The report costs a fixed number of queries
whatever the number of members: members, their lesson progress (aggregated in the
database) and the organisation tree are each read once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from learning.common.report_tables import BranchTable, BranchTableRow, Cell, Percent
from learning.common.spreadsheets import (
    member_cells,
    member_header,
    sheet_add,
    sheet_append,
    sheet_table,
    workbook_bytes,
    workbook_new,
)
from learning.models import Assignment, LessonProgress, Member, Organization
from learning.people.selectors import (
    nearest_branch,
    organizations_above,
    organizations_visible_to,
    subtrees_q,
)
from learning.study.assignments import Completion, Status, completion_status
from learning.study.pages import lessons_by_page

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class MemberRow:
    member: Member
    organization: Organization
    branch: Organization
    completion: Completion
    status: str

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)

    @property
    def completed_on(self) -> datetime.date | None:
        if self.completion.completed_at is None:
            return None
        return timezone.localdate(self.completion.completed_at)

    @property
    def is_completed(self) -> bool:
        return self.status in (Status.DONE, Status.LATE)


@dataclass
class BranchRow:
    """Counts for one branch (or a totals row when ``branch`` is None)."""

    branch: Organization | None
    assigned: int = 0
    done: int = 0
    late: int = 0
    in_progress: int = 0
    not_started: int = 0

    def add(self, status: str) -> None:
        self.assigned += 1
        if status == Status.DONE:
            self.done += 1
        elif status == Status.LATE:
            self.late += 1
        elif status == Status.IN_PROGRESS:
            self.in_progress += 1
        else:
            self.not_started += 1

    @property
    def completed(self) -> int:
        """Completed at all, on time or late."""
        return self.done + self.late

    @property
    def not_yet(self) -> int:
        """Not completed yet: in progress or not started."""
        return self.in_progress + self.not_started

    @property
    def rate(self) -> int:
        """Percentage of assigned members who completed, on time or late."""
        if not self.assigned:
            return 0
        return self.completed * 100 // self.assigned


@dataclass
class AssignmentReport:
    assignment: Assignment
    lesson_count: int
    branches: list[BranchRow] = field(default_factory=list)
    members: list[MemberRow] = field(default_factory=list)
    total: BranchRow = field(default_factory=lambda: BranchRow(branch=None))

    @property
    def not_yet(self) -> list[MemberRow]:
        """The members who have not completed the study yet, in the report's order."""
        return [row for row in self.members if not row.is_completed]

    def branch_table(self) -> BranchTable:
        """Per branch: assigned, completed on time and late, in progress, not started, rate."""

        def cells(row: BranchRow) -> tuple[Cell, ...]:
            return (
                row.assigned,
                row.done,
                row.late,
                row.in_progress,
                row.not_started,
                Percent(row.rate),
            )

        headings = (
            _("Assigned"),
            _("Completed on time"),
            _("Completed late"),
            pgettext("study", "In progress"),
            _("Not started"),
        )
        return BranchTable(
            first_heading=_("Branch"),
            headings=(*headings, _("Completion rate")),
            sheet_headings=(*headings, _("Completion rate (%)")),
            rows=tuple(BranchTableRow(row.branch.name, cells(row)) for row in self.branches),
            total=BranchTableRow(_("Total"), cells(self.total)),
            testid="report-branches",
        )

    def not_yet_branch_table(self) -> BranchTable:
        """The branches with members who have not completed yet, and how many."""
        return BranchTable(
            first_heading=_("Branch"),
            headings=(_("Assigned"), _("Not yet completed")),
            rows=tuple(
                BranchTableRow(row.branch.name, (row.assigned, row.not_yet))
                for row in self.branches
                if row.not_yet
            ),
            testid="report-not-yet-branches",
        )


def assignment_report(*, assignment: Assignment, user: Member | AnonymousUser) -> AssignmentReport:
    """Who among the members ``user`` may see was assigned ``assignment``, and how far they are.

    Members are those active now whose current organisation lies in one of the
    assignment's target subtrees and in ``user``'s scope.
    """
    lessons = lessons_by_page([assignment.page]).get(assignment.page_id, [])
    lesson_ids = [lesson.pk for lesson in lessons]
    report = AssignmentReport(assignment=assignment, lesson_count=len(lesson_ids))
    targets = list(assignment.organizations.only("path", "depth"))
    if not targets:
        return report
    in_scope = list(organizations_visible_to(user).filter(subtrees_q(targets)).order_by("path"))
    if not in_scope:
        return report
    by_path = organizations_above(in_scope)
    by_id = {org.pk: org for org in in_scope}

    members = Member.objects.filter(is_active=True, organization_id__in=list(by_id))
    progress = {
        row["member_id"]: row
        for row in LessonProgress.objects.filter(member__in=members, lesson_id__in=lesson_ids)
        .values("member_id")
        .annotate(
            opened=Count("id"),
            done=Count("id", filter=Q(completed_at__isnull=False)),
            last=Max("completed_at"),
        )
    }
    branches: dict[int, BranchRow] = {}
    for member in members.order_by("organization__path", "display_name", "username"):
        organization = by_id[member.organization_id]
        branch = nearest_branch(organization, by_path)
        row = progress.get(member.pk)
        done = row["done"] if row else 0
        completion = Completion(
            lesson_count=len(lesson_ids),
            completed_count=done,
            started=bool(row and row["opened"]),
            completed_at=row["last"] if row and lesson_ids and done >= len(lesson_ids) else None,
        )
        status = completion_status(completion, assignment.due_date)
        report.members.append(
            MemberRow(
                member=member,
                organization=organization,
                branch=branch,
                completion=completion,
                status=status,
            )
        )
        branches.setdefault(branch.pk, BranchRow(branch=branch)).add(status)
        report.total.add(status)
    report.branches = sorted(branches.values(), key=lambda row: row.branch.path)
    return report


# --- Export --------------------------------------------------------------------------


def assignment_report_xlsx(report: AssignmentReport) -> bytes:
    """The report as a workbook: branches, members, those not yet done, and what it is."""
    from openpyxl.styles import Font, PatternFill

    workbook, branches = workbook_new(_("Branches"))
    report.branch_table().sheet_write(branches)

    members = sheet_add(workbook, _("Members"))
    sheet_append(
        members,
        [
            *member_header(),
            _("Lessons completed"),
            _("Lessons"),
            _("Progress (%)"),
            _("Study status"),
            _("Completed on"),
        ],
    )
    for row in report.members:
        sheet_append(
            members,
            [
                *member_cells(row.member, row.branch, row.organization),
                row.completion.completed_count,
                row.completion.lesson_count,
                row.completion.percent,
                row.status_label,
                row.completed_on,
            ],
        )
        if row.completed_on:
            members.cell(row=members.max_row, column=9).number_format = "yyyy-mm-dd"

    not_yet = sheet_table(
        workbook,
        _("Not yet completed"),
        [*member_header(), _("Lessons completed"), _("Lessons"), _("Study status")],
        (
            [
                *member_cells(row.member, row.branch, row.organization),
                row.completion.completed_count,
                row.completion.lesson_count,
                row.status_label,
            ]
            for row in report.not_yet
        ),
    )

    notes = sheet_add(workbook, _("About"))
    assignment = report.assignment
    for label, value in [
        (_("Assignment"), assignment.display_title),
        (_("Course or lesson"), assignment.page.title),
        (_("Start date"), assignment.start_date),
        (_("Due date"), assignment.due_date),
        (_("Exported at"), timezone.localtime().replace(tzinfo=None, microsecond=0)),
    ]:
        sheet_append(notes, [label, value])

    for sheet, widths in (
        (branches, (24, 10, 14, 14, 12, 12, 16)),
        (members, (14, 16, 24, 24, 14, 10, 12, 14, 14)),
        (not_yet, (14, 16, 24, 24, 14, 10, 14)),
        (notes, (18, 40)),
    ):
        for cell in sheet[1] if sheet is not notes else ():
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="FDECEA")
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[chr(ord("A") + index - 1)].width = width
    return workbook_bytes(workbook)
