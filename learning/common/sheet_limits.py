"""The bounds of reading an uploaded spreadsheet, its error and its messages.

How the bounds are applied is explained in ``learning.common.sheets``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from learning.common.text import excerpt

MiB = 1024 * 1024
MAX_UPLOAD_BYTES = 5 * MiB
MAX_ARCHIVE_ENTRIES = 1_000
MAX_ENTRY_BYTES = 32 * MiB
MAX_ARCHIVE_BYTES = 64 * MiB
MAX_SMALL_PARTS_BYTES = 4 * MiB
# XML compresses 5 to 20 times; a 1,000 to 1 part is a bomb, not a sheet.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 1 * MiB
MAX_NAME_LENGTH = 255
MAX_NAME_DEPTH = 10
MAX_SHARED_STRINGS = 100_000
# Tags (start, end or empty) in one row or one shared string, and in the rest of a sheet
# (column widths, views, merged cells, formatting): openpyxl builds each of these whole.
MAX_TAGS_PER_ROW = 20_000
MAX_TAGS_BESIDES_ROWS = 20_000
# Bytes of one row (with what follows the last one) or one shared string, unpacked.
MAX_ROW_BYTES = 4 * MiB
MAX_STRING_BYTES = 1 * MiB
# Excel's own limit for the text of one cell.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = 64
MAX_SECONDS = 20.0

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
WORKSHEET_TYPE = SPREADSHEETML + "worksheet+xml"
SHARED_STRINGS_TYPE = SPREADSHEETML + "sharedStrings+xml"
CHARTSHEET_TYPE = SPREADSHEETML + "chartsheet+xml"
CONTENT_TYPES_PART = "[Content_Types].xml"

WORKBOOK_TYPES = {
    SPREADSHEETML + "sheet.main+xml",
    SPREADSHEETML + "template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}


@dataclass(frozen=True)
class SheetLimits:
    """The bounds of one importer's sheets (the archive bounds are the module's)."""

    max_rows: int
    max_columns: int = MAX_COLUMNS
    max_cell_chars: int = MAX_CELL_CHARS
    max_total_chars: int = 20_000_000
    max_seconds: float = MAX_SECONDS
    max_file_bytes: int = MAX_UPLOAD_BYTES
    max_part_bytes: int = MAX_ENTRY_BYTES
    max_archive_bytes: int = MAX_ARCHIVE_BYTES


class SheetError(Exception):
    """A bound was crossed or the file cannot be read: where (row, column) and why."""

    def __init__(self, message: str, *, row: int = 0, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column ``index``: 0 → A, 27 → AB."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def header_positions(
    header: Sequence[Any], aliases: Mapping[str, str], key: Callable[[Any], str]
) -> dict[str, int]:
    """Each known column's index in the header row (the first of repeated titles).

    ``key`` turns a header cell into what ``aliases`` maps to a canonical column name.
    """
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        canonical = aliases.get(key(title))
        if canonical and canonical not in positions:
            positions[canonical] = index
    return positions


def column_name(index: int | None, positions: Mapping[str, int]) -> str:
    """A column as a problem names it: its title when known, else its letter."""
    if index is None:
        return ""
    titles = {position: column for column, position in positions.items()}
    return titles.get(index) or column_letter(index)


# --- messages ------------------------------------------------------------------------


def file_too_large_message(max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    return _("The file is larger than %(size)d MB.") % {"size": max_bytes // MiB}


def unreadable(error: BaseException | str) -> str:
    reason = error if isinstance(error, str) else error.__class__.__name__
    return _("The file could not be read as an Excel .xlsx workbook (%(error)s).") % {
        "error": reason
    }


def part_problem(name: str, reason: str) -> str:
    return _("The workbook cannot be imported: %(reason)s (part %(part)s).") % {
        "reason": reason,
        "part": excerpt(name, 80),
    }


def cell_too_long_message(limits: SheetLimits) -> str:
    return _(
        "The cell holds more than %(max)s characters, more than a spreadsheet cell may "
        "hold; nothing more was read."
    ) % {"max": f"{limits.max_cell_chars:,}"}


def huge_cell_message() -> str:
    return _(
        "The cell is larger than %(size)d MB, far more than the %(max)s characters a "
        "spreadsheet cell may hold; nothing more was read."
    ) % {"size": MAX_ROW_BYTES // MiB, "max": f"{MAX_CELL_CHARS:,}"}


def too_many_cells() -> str:
    return _("The row has more than %(max)s cells and parts: it cannot be read.") % {
        "max": f"{MAX_TAGS_PER_ROW // 2:,}"
    }


def too_many_rows(limits: SheetLimits) -> str:
    return _(
        "The sheet has content below row %(max)s, the last one read: split it over several files."
    ) % {"max": f"{limits.max_rows:,}"}


def too_slow(limits: SheetLimits) -> str:
    return _(
        "Reading the file took longer than %(seconds)d seconds and was stopped here: "
        "split it over several smaller files."
    ) % {"seconds": limits.max_seconds}
