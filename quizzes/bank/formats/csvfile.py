"""CSV question files: the same columns as the .xlsx sheet (see ``table``).

Excel on Chinese Windows saves CSV as GB18030 (GBK); elsewhere UTF-8, with or without
a byte-order mark. The encoding is found by trying UTF-8 first (GB18030 accepts almost
any bytes, UTF-8 almost none that are not UTF-8), and the separator from the header
line (comma, tab or semicolon).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext as _

from learning.common.sheets import SheetError, bounded_rows, cell_too_long_message
from quizzes.bank.formats.base import (
    ParseResult,
)
from quizzes.bank.formats.reading import text_read
from quizzes.bank.formats.table import TABLE_LIMITS, parse_table_rows

FORMAT = "csv"


def parse_csv(data: bytes) -> ParseResult:
    """Read a CSV question file. Pure: no database access.

    Records are read one at a time within ``TABLE_LIMITS`` (rows, cell length, total
    text, time), the same bounds as a sheet's; the csv module's own field limit
    (131,072 characters, left at its default for the whole process) stops a longer
    field before it is built.
    """
    unreadable = ParseResult(format=FORMAT, unit="row")
    text = text_read(data, unreadable)
    if text is None:
        return unreadable
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = max(",\t;", key=first_line.count)
    rows = bounded_rows(_records(text, delimiter), limits=TABLE_LIMITS)
    try:
        return parse_table_rows(rows, format_name=FORMAT)
    finally:
        rows.close()


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    """The CSV records; a broken one is a ``SheetError`` at its row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field limit" in str(error):
                message = cell_too_long_message(TABLE_LIMITS)
            else:
                message = _("The row could not be read as CSV (%(error)s).") % {"error": error}
            raise SheetError(message, row=number + 1) from error
        number += 1
        yield record
