"""CSV question files: the same columns as the .xlsx sheet (see ``table``).

Excel on Chinese Windows saves CSV as GB18030 (GBK); elsewhere UTF-8, with or without
a byte-order mark. The encoding is found by trying UTF-8 first (GB18030 accepts almost
any bytes, UTF-8 almost none that are not UTF-8), and the separator from the header
line (comma, tab or semicolon).
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from quizzes.importers.base import ParseResult, decode_text, undecodable_problem
from quizzes.importers.table import parse_table_rows

FORMAT = "csv"


def parse_csv(data: bytes) -> ParseResult:
    """Read a CSV question file. Pure: no database access."""
    text = decode_text(data)
    if text is None:
        return ParseResult(format=FORMAT, unit="row", problems=[undecodable_problem("row")])
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        result = ParseResult(format=FORMAT, unit="row")
        result.problem(
            0, "", _("The file could not be read as CSV (%(error)s).") % {"error": error}
        )
        return result
    return parse_table_rows(rows, format_name=FORMAT)
