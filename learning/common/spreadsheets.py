"""Writing user text into exported spreadsheets (.xlsx and CSV) as text, never as a formula.

A member named ``=HYPERLINK("http://…")`` or ``=cmd|' /C calc'!A0`` must reach a
secretary's spreadsheet as those characters, not as a live formula (CSV or formula
injection). Every export the project writes goes through this module:

- **.xlsx** (``sheet_append``, ``cell_write``): text is always a string cell
  (``t="inlineStr"``; openpyxl would otherwise store any string starting with ``=`` as a
  ``<f>`` formula). Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return (or their full-width forms) also gets the cell style's ``quotePrefix``: the cell
  format that Excel gives text typed after an apostrophe. The value itself is unchanged,
  so an exported question sheet still imports back as it was, and editing such a cell in
  Excel keeps it text instead of turning it into a formula.
- **Workbooks** (``workbook_new``, ``sheet_add``, ``workbook_bytes``, ``XLSX_CONTENT_TYPE``):
  every .xlsx the project builds starts and ends here, with sheet names Excel accepts.
- **CSV** (``csv_value``, ``csv_row``): a CSV cell has no type, so such text is written
  with a leading apostrophe (``'=1+1``), which spreadsheet programs show as text.

Numbers, dates and booleans stay what they are (``-5`` is still a number). Text is also
repaired (``learning.common.text.text_cleaned``) and characters XML cannot hold are dropped, so
a stored lone surrogate or control character cannot make an export fail.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from learning.common.text import text_cleaned

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (or
# DDE command) when they come first (OWASP's list), and their full-width forms, which
# Chinese input methods produce and Excel in East Asian locales also accepts.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# What XML 1.0 cannot hold (openpyxl raises IllegalCharacterError for these).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program would read ``text`` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def spreadsheet_text(value: str) -> str:
    """``value`` repaired and stripped of what an .xlsx cell cannot hold."""
    return _NOT_XML.sub("", text_cleaned(value))


def cell_write(cell: Any, value: Any) -> Any:
    """Put ``value`` into an openpyxl cell: text as text (see the module docstring)."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        cell.value = value
        return cell
    text = spreadsheet_text(value)
    cell.value = text
    # openpyxl types "=…" as a formula on assignment; a string cell is never evaluated.
    cell.data_type = "s"
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Excel refuses these in a sheet's name, and names longer than 31 characters.
_NOT_IN_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_MAX = 31


def sheet_title(title: Any) -> str:
    """``title`` as Excel accepts a sheet's name: at most 31 characters, no ``[]:*?/\\``."""
    return _NOT_IN_SHEET_TITLE.sub("", spreadsheet_text(str(title)))[:SHEET_TITLE_MAX]


def workbook_new(title: Any) -> tuple[Any, Any]:
    """A new openpyxl workbook and its first sheet, named ``title``."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title)
    return workbook, sheet


def sheet_add(workbook: Any, title: Any) -> Any:
    """A further sheet of ``workbook``, named ``title``."""
    return workbook.create_sheet(sheet_title(title))


def workbook_bytes(workbook: Any) -> bytes:
    """The .xlsx file of ``workbook``, to send with ``XLSX_CONTENT_TYPE``."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_table(
    workbook: Any, title: Any, header: Iterable[Any], rows: Iterable[Iterable[Any]]
) -> Any:
    """A further sheet of ``workbook``: a header row, then ``rows``, every cell as text-safe."""
    sheet = sheet_add(workbook, title)
    sheet_append(sheet, header)
    for row in rows:
        sheet_append(sheet, row)
    return sheet


def member_header() -> list[Any]:
    """The columns that name a member in a report's sheet (see ``member_cells``)."""
    return [_("Member"), _("Username"), _("Branch"), _("Organisation")]


def member_cells(member: Any, branch: Any, organization: Any) -> list[Any]:
    """A member's name, username, branch and organisation, as a report's sheet shows them."""
    return [
        member.display_name or member.username,
        member.username,
        branch.name if branch is not None else "",
        organization.name if organization is not None else "",
    ]


def sheet_append(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append(values)`` for an openpyxl worksheet, each value through ``cell_write``."""
    from openpyxl.cell.cell import Cell

    sheet.append([cell_write(Cell(sheet), value) for value in values])


def csv_value(value: Any) -> Any:
    """A value for ``csv.writer``: formula-like text gets a leading apostrophe."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        return value
    text = text_cleaned(value)
    return f"'{text}" if is_formula_like(text) else text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer`` with every value passed through ``csv_value``."""
    return [csv_value(value) for value in values]


class SpreadsheetExportTextMixin:
    """For Wagtail listing views with ``list_export``: exported text as text, the same way.

    Wagtail's ``SpreadsheetExportMixin`` turns an .xlsx formula back into a string cell
    but writes CSV cells as they are; put this mixin before the Wagtail view class.
    """

    FORMAT_CSV = "csv"

    def preprocess_field_value(self, field: str, value: Any, export_format: str) -> Any:
        value = super().preprocess_field_value(field, value, export_format)  # type: ignore[misc]
        if isinstance(value, Promise):
            value = str(value)
        if not isinstance(value, str):
            return value
        if export_format == self.FORMAT_CSV:
            return csv_value(value)
        return spreadsheet_text(value)

    def generate_xlsx_row(self, worksheet: Any, row_dict: Any, date_format: Any = None) -> Any:
        cells = super().generate_xlsx_row(worksheet, row_dict, date_format)  # type: ignore[misc]
        for cell in cells:
            if isinstance(cell.value, str):
                cell_write(cell, cell.value)
            yield cell
