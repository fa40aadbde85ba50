"""A table of figures per branch with an optional total row, as the admin reports show it.

One description of the columns serves the page (``includes/admin_branch_table.html``)
and the workbook (``BranchTable.sheet_rows``), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Percent:
    """A whole percentage: shown as "42%", written to a workbook as the number 42."""

    value: int

    def __str__(self) -> str:
        return f"{self.value}%"


Cell = int | str | Percent


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

    def sheet_rows(self) -> list[list[Cell]]:
        """The table for ``sheet_append``: the heading row, the rows, the total."""
        rows = [*self.rows, *([self.total] if self.total else [])]
        return [
            [self.first_heading, *(self.sheet_headings or self.headings)],
            *([row.name, *(_sheet_value(cell) for cell in row.cells)] for row in rows),
        ]


def _sheet_value(cell: Cell) -> int | str:
    return cell.value if isinstance(cell, Percent) else cell
