"""The branch tables of the admin reports (page and workbook alike) and the branch a member
rolls up to."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook

from learning.common.report_tables import BranchTable, BranchTableRow, Percent
from learning.people.selectors import nearest_branch, organizations_above


def test_a_percent_shows_as_on_the_page_and_is_a_number_in_the_workbook() -> None:
    assert [str(Percent(42)), str(Percent(Decimal("62.50"))), str(Percent(None))] == [
        "42%",
        "62.50%",
        "—",
    ]
    table = BranchTable(
        first_heading="Branch",
        headings=("Members", "Mean"),
        sheet_headings=("Members", "Mean (%)"),
        rows=(
            BranchTableRow("A", (3, Percent(Decimal("62.50")))),
            BranchTableRow("B", (1, Percent(None))),
        ),
        total=BranchTableRow("Total", (4, Percent(50))),
    )
    assert table.sheet_rows() == [
        ["Branch", "Members", "Mean (%)"],
        ["A", 3, 62.5],
        ["B", 1, None],
        ["Total", 4, 50],
    ]
    assert isinstance(table.sheet_rows()[1][2], float)


def test_a_table_writes_itself_into_a_sheet_with_text_as_text() -> None:
    table = BranchTable(
        first_heading="Branch",
        headings=("Members",),
        rows=(BranchTableRow("=HYPERLINK(1)", (2,)),),
    )
    sheet = Workbook().active
    table.sheet_write(sheet)
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Branch", "Members"],
        ["=HYPERLINK(1)", 2],
    ]
    assert sheet["A2"].data_type == "s"


@pytest.mark.django_db
def test_a_party_group_rolls_up_to_its_branch_and_a_branch_to_itself(tree) -> None:
    asked = [tree.group_a1, tree.branch_a2, tree.general_b, tree.committee]
    by_path = organizations_above(asked)
    assert set(by_path) == {
        organization.path
        for organization in (
            tree.committee,
            tree.general_a,
            tree.general_b,
            tree.branch_a1,
            tree.branch_a2,
            tree.group_a1,
        )
    }
    assert [nearest_branch(organization, by_path) for organization in asked] == [
        tree.branch_a1,
        tree.branch_a2,
        # Nothing above is a branch: the organisation stands for itself.
        tree.general_b,
        tree.committee,
    ]
