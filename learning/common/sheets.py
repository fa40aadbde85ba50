"""Reading uploaded spreadsheets within bounds: the .xlsx archive, its XML, and the rows.

An .xlsx file is a zip archive of XML parts, and openpyxl — even in read-only mode —
builds some things whole in memory: the text of a cell, each ``<row>`` element with all
its cells, the whole shared-string table, the styles and the other small parts; and on
opening a workbook it reads every row of a sheet that does not state its size. A 616 KB
upload unpacked to one 600 MB cell. So ``xlsx_rows`` reads a workbook in three steps,
each bounded, and openpyxl only ever sees what the earlier steps let through:

1. **The zip's directory** (``archive_check``; nothing is unpacked): at most
   ``MAX_ARCHIVE_ENTRIES`` parts with plain names, stored or deflated, not encrypted,
   no archive inside, no chart sheet; each part at most ``max_part_bytes`` unpacked
   and, from ``RATIO_CHECKED_FROM`` on, compressed no more than ``MAX_COMPRESSION_RATIO``
   to 1; all parts at most ``max_archive_bytes``, and the XML parts besides the sheets
   and the shared strings (which openpyxl reads whole) at most ``MAX_SMALL_PARTS_BYTES``.
   The sizes are the ones the directory declares; ``zipfile`` never unpacks more than
   declared (it stops, and the CRC check fails).
2. **A streaming pass over the bytes** of the shared strings and of every sheet openpyxl
   opens (``shared_strings_scan``, ``sheet_scan``), a chunk at a time, with ``find`` and
   ``count`` only — nothing is built: no comment, CDATA, DOCTYPE or processing
   instruction (they could hide a ``<``) and UTF-8 only; each row at most
   ``MAX_ROW_BYTES`` and ``MAX_TAGS_PER_ROW`` tags, the rest of a sheet at most
   ``MAX_TAGS_BESIDES_ROWS`` tags; at most ``MAX_SHARED_STRINGS`` shared strings of at
   most ``MAX_STRING_BYTES`` each; no content below row ``max_rows``. It also finds the
   last row with content, and whether the sheet states its size.
3. **openpyxl in read-only mode** then reads the first sheet up to that last row (what
   follows the data is never parsed), at most ``max_columns`` columns, and
   ``bounded_rows`` checks each row as it streams past: no cell over ``max_cell_chars``
   (Excel's own limit), the text read at most ``max_total_chars``, and the time budget
   ``max_seconds``, which also interrupts openpyxl whenever it reads from the file.

So the largest thing ever built is one row of at most 4 MB. ``bounded_rows`` serves any
other row source too (CSV). Every refusal is a ``SheetError`` with the row (1-based, as
Excel numbers it; 0 for the whole file), the column (0-based, or None) and a message,
which each importer reports in its usual form, "Row 3, column 题干: …". A problem found
in step 2 is raised once the rows before it are read, so the column is named by its
title — unless the sheet hides its size (openpyxl would read the bad row on opening
the workbook), when it is raised at once and the column named by its letter.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.utils.translation import gettext as _

from learning.common.sheet_limits import (
    MAIN_NS,
    MAX_ARCHIVE_BYTES,
    MAX_ARCHIVE_ENTRIES,
    MAX_CELL_CHARS,
    MAX_COMPRESSION_RATIO,
    MAX_ENTRY_BYTES,
    MAX_SHARED_STRINGS,
    MAX_SMALL_PARTS_BYTES,
    MAX_STRING_BYTES,
    MAX_TAGS_BESIDES_ROWS,
    MAX_TAGS_PER_ROW,
    MAX_UPLOAD_BYTES,
    MiB,
    SheetError,
    SheetLimits,
    cell_too_long_message,
    column_letter,
    column_name,
    file_too_large_message,
    header_positions,
    too_many_rows,
    too_slow,
    unreadable,
)
from learning.common.sheet_scan import (
    Package,
    SheetScan,
    archive_check,
    shared_strings_scan,
    sheet_scan,
)
from learning.common.text import excerpt

logger = logging.getLogger(__name__)

# --- 3. openpyxl, row by row -----------------------------------------------------------


class _DeadlineFile(io.BytesIO):
    """The upload as openpyxl reads it: past the deadline, reading fails with SheetError.

    openpyxl reads in small compressed pieces, and a part unpacks to at most
    ``MAX_COMPRESSION_RATIO`` times a piece, so no long stretch of work goes unchecked.
    """

    def __init__(self, data: bytes, *, deadline: float, limits: SheetLimits) -> None:
        super().__init__(data)
        self._deadline = deadline
        self._limits = limits

    def read(self, size: int | None = -1, /) -> bytes:
        if time.monotonic() > self._deadline:
            raise SheetError(too_slow(self._limits))
        return super().read(size)


def bounded_rows(
    rows: Iterable[Sequence[Any]], *, limits: SheetLimits, deadline: float | None = None
) -> Iterator[tuple[Any, ...]]:
    """``rows`` (row 1 first), each cut to ``max_columns``, raising ``SheetError`` at the
    first row that is past the deadline, has a cell over ``max_cell_chars``, brings the
    text read over ``max_total_chars``, or has content below ``max_rows``."""
    if deadline is None:
        deadline = time.monotonic() + limits.max_seconds
    total = 0
    for number, values in enumerate(rows, start=1):
        if time.monotonic() > deadline:
            raise SheetError(too_slow(limits), row=number)
        cells = tuple(values[: limits.max_columns])
        has_content = False
        for index, value in enumerate(cells):
            if value is None or value == "":
                continue
            has_content = True
            if isinstance(value, str):
                if len(value) > limits.max_cell_chars:
                    raise SheetError(cell_too_long_message(limits), row=number, column=index)
                total += len(value)
        if has_content and number > limits.max_rows:
            raise SheetError(too_many_rows(limits), row=number)
        if total > limits.max_total_chars:
            raise SheetError(
                _(
                    "The sheet holds more than %(max)s characters of text in all; reading "
                    "stopped here. Split it over several files."
                )
                % {"max": f"{limits.max_total_chars:,}"},
                row=number,
            )
        yield cells


def xlsx_rows(data: bytes, *, limits: SheetLimits) -> Iterator[tuple[Any, ...]]:
    """The values of the first sheet's rows, row 1 first, read within ``limits``.

    A generator: ``SheetError`` comes out of the iteration. A problem in a row of the
    first sheet is found before openpyxl reads anything; when it is safe, the rows
    before it are read first, so the importer can name the column by its title.
    """
    deadline = time.monotonic() + limits.max_seconds
    if len(data) > limits.max_file_bytes:
        raise SheetError(file_too_large_message(limits.max_file_bytes))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            package = archive_check(archive, limits=limits)
            paths = _worksheet_paths(archive, package)
            if not paths:
                return
            scan = _streaming_pass(archive, package, paths, limits=limits, deadline=deadline)
            yield from _openpyxl_rows(data, scan, limits=limits, deadline=deadline)
    except SheetError as error:
        # For operators: a refused workbook may be an attack on the importer.
        logger.info("workbook refused at row %d: %s", error.row, error.message)
        raise
    except Exception as error:  # zipfile, zlib, expat and openpyxl raise many kinds
        logger.info("unreadable workbook: %r", error, exc_info=True)
        raise SheetError(unreadable(error)) from error


def _worksheet_paths(archive: zipfile.ZipFile, package: Package) -> list[str]:
    """The worksheets openpyxl will open, in the workbook's order (the first is imported).

    openpyxl's own workbook reader finds them; it reads only the workbook part and its
    relationships, small parts already bounded.
    """
    from openpyxl.reader.workbook import WorkbookParser

    workbook_part = package.workbook or "xl/workbook.xml"
    parser = WorkbookParser(archive, workbook_part, keep_links=False)
    parser.parse()
    names = set(archive.namelist())
    return [rel.target for _sheet, rel in parser.find_sheets() if rel.target in names]


def _streaming_pass(
    archive: zipfile.ZipFile,
    package: Package,
    paths: list[str],
    *,
    limits: SheetLimits,
    deadline: float,
) -> SheetScan:
    """Step 2 for the shared strings and every sheet openpyxl opens (it reads the rows
    of any sheet that does not state its size as soon as it opens the workbook)."""
    if package.shared_strings is not None:
        shared_strings_scan(archive, package.shared_strings, limits=limits, deadline=deadline)
    first, *others = paths
    for other in others:
        problem = sheet_scan(archive, other, limits=limits, deadline=deadline, first=False).problem
        if problem is not None:
            raise SheetError(
                _("Another sheet of the workbook (%(part)s) cannot be read: %(message)s")
                % {"part": excerpt(other, 80), "message": problem.message}
            )
    scan = sheet_scan(archive, first, limits=limits, deadline=deadline, first=True)
    if scan.problem is not None and not scan.has_dimension:
        # openpyxl would read every row on opening the workbook, the bad one too: refuse
        # now, with the column named by its letter (the header is not read).
        raise scan.problem
    return scan


def _openpyxl_rows(
    data: bytes, scan: SheetScan, *, limits: SheetLimits, deadline: float
) -> Iterator[tuple[Any, ...]]:
    """Step 3: the first sheet's rows up to its last row with content — or up to the row
    before a problem, which is raised then, after the header has been read."""
    from openpyxl import load_workbook

    stop = scan.problem.row - 1 if scan.problem is not None else scan.last_row
    if stop > 0:
        workbook = load_workbook(
            _DeadlineFile(data, deadline=deadline, limits=limits),
            read_only=True,
            data_only=True,
            keep_links=False,
        )
        try:
            yield from _first_rows(workbook.worksheets[0], stop, limits=limits, deadline=deadline)
        finally:
            workbook.close()
    if scan.problem is not None:
        raise scan.problem


def _first_rows(
    sheet: Any, stop: int, *, limits: SheetLimits, deadline: float
) -> Iterator[tuple[Any, ...]]:
    values = sheet.iter_rows(min_row=1, max_row=stop, max_col=limits.max_columns, values_only=True)
    rows = bounded_rows(values, limits=limits, deadline=deadline)
    try:
        for number, row in enumerate(rows, start=1):
            yield row
            # Stop at row ``stop``: openpyxl would go on to parse what follows.
            if number >= stop:
                return
    finally:
        rows.close()
        values.close()


# The one module importers use: the bounds and messages are re-exported from here.
__all__ = [
    "MAIN_NS",
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_ENTRIES",
    "MAX_CELL_CHARS",
    "MAX_COMPRESSION_RATIO",
    "MAX_ENTRY_BYTES",
    "MAX_SHARED_STRINGS",
    "MAX_SMALL_PARTS_BYTES",
    "MAX_STRING_BYTES",
    "MAX_TAGS_BESIDES_ROWS",
    "MAX_TAGS_PER_ROW",
    "MAX_UPLOAD_BYTES",
    "MiB",
    "SheetError",
    "SheetLimits",
    "bounded_rows",
    "cell_too_long_message",
    "column_letter",
    "column_name",
    "file_too_large_message",
    "header_positions",
    "xlsx_rows",
]
