"""A table of figures per branch with an optional total row, as the admin reports show it.

One description of the columns serves the page (``includes/admin_branch_table.html``)
and the workbook (``BranchTable.sheet_rows``, ``sheet_write``), so the two cannot drift
apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from learning.common.spreadsheets import sheet_append


@dataclass(frozen=True)
class Percent:
    """A percentage: shown as "42%" (or "42.50%"), written to a workbook as the number 42;
    ``None`` when there is none to give (no grade yet, no pass mark): "—", an empty cell."""

    value: int | Decimal | None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value}%"


Cell = int | str | Percent
SheetValue = int | float | str | None


@dataclass(frozen=True)
class BranchTableRow:
    name: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class BranchTable:
    """Rows of figures, one per branch; ``headings`` are the columns after the first."""

    first_heading: str
    headings: tuple[str, ...]
    rows: tuple[BranchTableRow, ...]
    total: BranchTableRow | None = None
    testid: str = ""
    # The workbook's headings where they differ (a percentage column says "(%)" there).
    sheet_headings: tuple[str, ...] | None = None

    def sheet_rows(self) -> list[list[SheetValue]]:
        """The table for ``sheet_append``: the heading row, the rows, the total."""
        rows = [*self.rows, *([self.total] if self.total else [])]
        return [
            [self.first_heading, *(self.sheet_headings or self.headings)],
            *([row.name, *(_sheet_value(cell) for cell in row.cells)] for row in rows),
        ]

    def sheet_write(self, sheet: Any) -> None:
        """Append the table to an openpyxl worksheet (``sheet_rows``, text as text)."""
        for row in self.sheet_rows():
            sheet_append(sheet, row)


def _sheet_value(cell: Cell) -> SheetValue:
    if not isinstance(cell, Percent):
        return cell
    # openpyxl writes Decimal as text in some readers; a float keeps the cell numeric.
    return float(cell.value) if isinstance(cell.value, Decimal) else cell.value
