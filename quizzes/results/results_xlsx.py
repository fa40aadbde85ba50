"""The ``.xlsx`` export of a quiz's results: branches, members, attempts, who has not
submitted yet, and what was exported.

The branch sheets are written from the same ``BranchTable`` the page shows
(``QuizResults.branch_table``, ``not_yet_branch_table``), so page and workbook agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from learning.common.spreadsheets import (
    member_cells,
    member_header,
    sheet_add,
    sheet_append,
    sheet_table,
    workbook_bytes,
    workbook_new,
)
from quizzes.models import Attempt
from quizzes.results.reports import QuizResults, attempt_percent


def _number(value: Decimal | None) -> float | None:
    # openpyxl writes Decimal as text in some readers; a float keeps the cell numeric.
    return None if value is None else float(value)


def quiz_results_xlsx(results: QuizResults) -> bytes:
    """The results as a workbook: branches, members, attempts, and what was exported."""
    from openpyxl.styles import Font

    quiz = results.quiz
    workbook, branches = workbook_new(_("Branches"))
    results.branch_table().sheet_write(branches)

    sheet_table(
        workbook,
        _("Members"),
        [
            *member_header(),
            _("Attempts"),
            _("Best score (%)"),
            _("Grade (%)"),
            _("Passed"),
            _("Waiting for grading"),
            _("Under review"),
        ],
        (
            [
                *member_cells(row.member, row.branch, row.organization),
                len(row.attempts),
                _number(row.best),
                _number(row.grade),
                "" if row.passed is None else (_("Yes") if row.passed else _("No")),
                row.waiting,
                len(row.flagged),
            ]
            for row in results.members
        ),
    )

    attempts = sheet_add(workbook, _("Attempts"))
    sheet_append(
        attempts,
        [
            _("Member"),
            _("Username"),
            _("Attempt"),
            _("Submitted at"),
            _("Score"),
            _("Full marks"),
            _("Score (%)"),
            _("Waiting for grading"),
            _("Integrity review"),
        ],
    )
    for row in results.members:
        for attempt in row.attempts:
            percent = attempt_percent(attempt)
            submitted = (
                timezone.localtime(attempt.submitted_at).replace(tzinfo=None, microsecond=0)
                if attempt.submitted_at
                else None
            )
            sheet_append(
                attempts,
                [
                    row.member.display_name or row.member.username,
                    row.member.username,
                    attempt.number,
                    submitted,
                    _number(attempt.score),
                    _number(attempt.max_score),
                    _number(percent),
                    _("Yes") if attempt.needs_grading else "",
                    ""
                    if attempt.integrity == Attempt.Integrity.CLEAR
                    else str(attempt.get_integrity_display()),
                ],
            )
            if submitted:
                attempts.cell(row=attempts.max_row, column=4).number_format = "yyyy-mm-dd hh:mm"

    _not_yet_sheets(workbook, results)

    about = sheet_add(workbook, _("About"))
    for label, value in [
        (_("Quiz"), quiz.title),
        (_("Kind"), str(quiz.get_kind_display())),
        (_("Grading method"), str(quiz.get_grading_method_display())),
        (_("Pass mark (%)"), quiz.pass_percent if quiz.pass_percent is not None else "—"),
        (_("Exported at"), timezone.localtime().replace(tzinfo=None, microsecond=0)),
    ]:
        sheet_append(about, [label, value])

    for sheet in workbook.worksheets:
        if sheet is about:
            continue
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in "ABCDEFGHIJ":
            sheet.column_dimensions[column].width = 16
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 40
    return workbook_bytes(workbook)


def _not_yet_sheets(workbook: Any, results: QuizResults) -> None:
    """Who has not submitted yet: counts per branch, then one row per member."""
    results.not_yet_branch_table().sheet_write(sheet_add(workbook, _("Not yet by branch")))
    sheet_table(
        workbook,
        _("Not yet submitted"),
        [*member_header(), _("State")],
        (
            [
                *member_cells(row.member, row.branch, row.organization),
                _("Started, not submitted") if row.started else _("Not started"),
            ]
            for row in results.not_yet
        ),
    )
