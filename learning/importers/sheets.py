"""Reading uploaded spreadsheets within bounds: the .xlsx archive, its XML, and the rows.

An .xlsx file is a zip archive of XML parts, and openpyxl — even in read-only mode —
builds some things whole in memory: the text of each cell, the whole shared-string table,
the styles and the other small parts, and each ``<row>`` element with all its cells. A
616 KB upload can unpack to 600 MB of one cell. So ``xlsx_rows`` reads a workbook in
three steps, each bounded, and openpyxl only ever sees what the earlier steps passed:

1. **The zip's directory** (``archive_check``, nothing unpacked): at most
   ``MAX_ARCHIVE_ENTRIES`` parts with plain names, stored or deflated, not encrypted, no
   archive inside; each part at most ``MAX_ENTRY_BYTES`` unpacked and, when over
   ``RATIO_CHECKED_FROM``, compressed no better than ``MAX_COMPRESSION_RATIO`` to 1; all
   parts together at most ``MAX_ARCHIVE_BYTES``, the XML parts other than the sheets and
   the shared strings (which openpyxl reads whole) at most ``MAX_SMALL_PARTS_BYTES``; no
   chart sheets. The sizes are those the directory declares, and ``zipfile`` never
   unpacks more than declared (it stops, and the CRC check fails).
2. **A streaming pass with expat** over the shared-string table and the first sheet,
   which keeps at most one tag in memory (no two ``<`` more than ``MAX_TAG_BYTES``
   apart): at most ``MAX_SHARED_STRINGS`` strings; no cell or shared string over
   ``max_cell_chars`` (counted as the text streams past, never built); at most
   ``MAX_ELEMENTS_PER_ROW`` elements in one row or one shared string and
   ``MAX_ELEMENTS_BEFORE_DATA`` before the sheet's data; no content below
   ``max_rows``; no DOCTYPE. It also finds the last row with content.
3. **openpyxl in read-only mode** reads the first sheet up to that last row (what
   follows the data — merged cells, formatting — is never parsed), at most
   ``max_columns`` columns; ``bounded_rows`` checks every row as it streams past:
   cell length, total text, row count, and the time budget, which also interrupts
   openpyxl itself whenever it reads from the file.

``bounded_rows`` serves any other row source too (CSV). Every refusal is a
``SheetError`` with the row (1-based, as Excel numbers it; 0 for the whole file), the
column (0-based index, or None) and a message; each importer reports it in its usual
form, "Row 3, column 题干: …". The numbers are chosen so that the legitimate 5 MB sheet
passes easily while the worst hostile one costs well under 100 MB and a few seconds.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _

from learning.text import excerpt

logger = logging.getLogger(__name__)

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
MAX_ELEMENTS_PER_ROW = 10_000
MAX_ELEMENTS_BEFORE_DATA = 10_000
MAX_TAG_BYTES = 1 * MiB
# Excel's own limit for the text of one cell.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = 64
MAX_SECONDS = 10.0

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
WORKSHEET_TYPE = _SPREADSHEETML + "worksheet+xml"
SHARED_STRINGS_TYPE = _SPREADSHEETML + "sharedStrings+xml"
CHARTSHEET_TYPE = _SPREADSHEETML + "chartsheet+xml"
CONTENT_TYPES_PART = "[Content_Types].xml"
_XML_SUFFIXES = (".xml", ".rels")
_ARCHIVE_SUFFIXES = (
    ".zip", ".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm", ".docx", ".docm", ".pptx",
    ".pptm", ".odt", ".ods", ".jar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar",
)  # fmt: skip
_ZIP_ENCRYPTED = 0x1
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class SheetLimits:
    """The bounds of one importer's sheets (the archive bounds are the module's)."""

    max_rows: int
    max_columns: int = MAX_COLUMNS
    max_cell_chars: int = MAX_CELL_CHARS
    max_total_chars: int = 20_000_000
    max_seconds: float = MAX_SECONDS
    max_file_bytes: int = MAX_UPLOAD_BYTES


class SheetError(Exception):
    """A bound was crossed or the file cannot be read: where (row, column) and why."""

    def __init__(self, message: str, *, row: int = 0, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column
        # Row 1 of the sheet, when the problem was found before the rows were read.
        self.header: tuple[Any, ...] | None = None


class _EndOfDataError(Exception):
    """The streaming pass reached ``</sheetData>``: openpyxl will not read further."""


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column ``index``: 0 → A, 27 → AB."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


# --- messages ------------------------------------------------------------------------


def file_too_large_message(max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    return _("The file is larger than %(size)d MB.") % {"size": max_bytes // MiB}


def _unreadable(error: BaseException | str) -> str:
    reason = error if isinstance(error, str) else error.__class__.__name__
    return _("The file could not be read as an Excel .xlsx workbook (%(error)s).") % {
        "error": reason
    }


def _part_problem(name: str, reason: str) -> str:
    return _("The workbook cannot be imported: %(reason)s (part %(part)s).") % {
        "reason": reason,
        "part": excerpt(name, 80),
    }


def cell_too_long_message(limits: SheetLimits) -> str:
    return _(
        "The cell holds more than %(max)s characters, more than a spreadsheet cell may "
        "hold; nothing more was read."
    ) % {"max": f"{limits.max_cell_chars:,}"}


def _too_many_rows(limits: SheetLimits) -> str:
    return _(
        "The sheet has content below row %(max)s, the last one read: split it over several files."
    ) % {"max": f"{limits.max_rows:,}"}


def _too_slow(limits: SheetLimits) -> str:
    return _(
        "Reading the file took longer than %(seconds)d seconds and was stopped here: "
        "split it over several smaller files."
    ) % {"seconds": limits.max_seconds}


# --- 1. the zip's directory -----------------------------------------------------------


@dataclass
class Package:
    """What ``archive_check`` learnt from the directory and the content types."""

    shared_strings: str | None = None
    workbook: str | None = None
    worksheets: set[str] = field(default_factory=set)


def _odd_name(name: str) -> bool:
    if not name or len(name) > MAX_NAME_LENGTH:
        return True
    if name.startswith("/") or "\\" in name or ":" in name or "\x00" in name:
        return True
    segments = name.rstrip("/").split("/")
    return len(segments) > MAX_NAME_DEPTH or any(part in ("", ".", "..") for part in segments)


def archive_check(archive: zipfile.ZipFile) -> Package:
    """Refuse (``SheetError``) an archive that openpyxl should not open; see the module."""
    infos = archive.infolist()
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise SheetError(
            _(
                "The workbook has %(count)s parts, more than the %(max)s allowed: save it "
                "again from Excel with only the sheet to import."
            )
            % {"count": f"{len(infos):,}", "max": f"{MAX_ARCHIVE_ENTRIES:,}"}
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if _odd_name(name) or name.casefold() in seen:
            raise SheetError(_part_problem(name, _("a part has an unusual name")))
        seen.add(name.casefold())
        if info.flag_bits & _ZIP_ENCRYPTED:
            raise SheetError(
                _part_problem(name, _("it is encrypted; save it again without a password"))
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SheetError(_part_problem(name, _("a part is compressed in an unusual way")))
        if name.endswith("/"):
            if info.file_size:
                raise SheetError(_part_problem(name, _("a part has an unusual name")))
            continue
        if name.lower().endswith(_ARCHIVE_SUFFIXES):
            raise SheetError(
                _part_problem(name, _("it contains an embedded file; remove embedded objects"))
            )
        if info.file_size > MAX_ENTRY_BYTES:
            raise SheetError(
                _part_problem(
                    name,
                    _("a part unpacks to more than %(size)d MB; split the rows over several files")
                    % {"size": MAX_ENTRY_BYTES // MiB},
                )
            )
        ratio_limit = MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > ratio_limit:
            raise SheetError(
                _part_problem(
                    name,
                    _("a part is compressed more than %(ratio)d to 1, as no real sheet is")
                    % {"ratio": MAX_COMPRESSION_RATIO},
                )
            )
        total += info.file_size
        if total > MAX_ARCHIVE_BYTES:
            raise SheetError(
                _part_problem(
                    name,
                    _("the parts unpack to more than %(size)d MB in all")
                    % {"size": MAX_ARCHIVE_BYTES // MiB},
                )
            )
    return _package(archive, infos)


def _package(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> Package:
    names = {info.filename.casefold(): info for info in infos}
    types_info = names.get(CONTENT_TYPES_PART.casefold())
    if types_info is None:
        raise SheetError(_unreadable(_("no content types")))
    if types_info.file_size > MAX_SMALL_PARTS_BYTES:
        raise SheetError(_part_problem(types_info.filename, _("a part is unusually large")))
    overrides = _content_types(archive.read(types_info.filename))
    package = Package()
    for part, content_type in overrides:
        if content_type == CHARTSHEET_TYPE:
            raise SheetError(_part_problem(part, _("it contains a chart sheet; remove it")))
        if content_type in _WORKBOOK_TYPES and package.workbook is None:
            package.workbook = part
        if content_type == WORKSHEET_TYPE:
            package.worksheets.add(part.casefold())
        elif content_type == SHARED_STRINGS_TYPE and package.shared_strings is None:
            info = names.get(part.casefold())
            package.shared_strings = info.filename if info is not None else None
    small = 0
    for info in infos:
        key = info.filename.casefold()
        if not key.endswith(_XML_SUFFIXES) or key in package.worksheets:
            continue
        if package.shared_strings is not None and key == package.shared_strings.casefold():
            continue
        small += info.file_size
        if small > MAX_SMALL_PARTS_BYTES:
            raise SheetError(
                _part_problem(
                    info.filename,
                    _("the parts besides the sheets unpack to more than %(size)d MB")
                    % {"size": MAX_SMALL_PARTS_BYTES // MiB},
                )
            )
    return package


def _content_types(data: bytes) -> list[tuple[str, str]]:
    overrides: list[tuple[str, str]] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Override":
            part = attributes.get("PartName", "").lstrip("/")
            overrides.append((part, attributes.get("ContentType", "")))

    parser = _new_parser()
    parser.StartElementHandler = start
    parser.Parse(data, True)
    return overrides


# --- 2. the streaming pass ------------------------------------------------------------


def _refuse_doctype(*_args: Any) -> None:
    # OOXML never declares a DTD; one here can only be there to expand entities.
    raise SheetError(_unreadable("DOCTYPE"))


def _new_parser() -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _READ_CHUNK
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    return parser


class _Pass:
    """Feeds one part to expat in chunks; subclasses count what openpyxl would build."""

    def __init__(self, limits: SheetLimits, deadline: float) -> None:
        self.limits = limits
        self.deadline = deadline
        self.depth = 0
        self.parser = _new_parser()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text

    def run(self, archive: zipfile.ZipFile, name: str) -> None:
        gap = 0
        try:
            with archive.open(name) as stream:
                while chunk := stream.read(_READ_CHUNK):
                    if time.monotonic() > self.deadline:
                        raise SheetError(_too_slow(self.limits))
                    gap = _tag_gap(chunk, gap)
                    self.parser.Parse(chunk, False)
                self.parser.Parse(b"", True)
        except _EndOfDataError:
            return

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        raise NotImplementedError

    def _end(self, name: str) -> None:
        raise NotImplementedError

    def _text(self, data: str) -> None:
        raise NotImplementedError


def _tag_gap(chunk: bytes, gap: int) -> int:
    """Bytes since the last ``<``, after ``chunk``; refuses a tag or text run too long.

    Inside a chunk two ``<`` are at most a chunk apart, so only the run across chunks
    needs counting: two searches per chunk.
    """
    first = chunk.find(b"<")
    if first == -1:
        gap += len(chunk)
        if gap > MAX_TAG_BYTES:
            raise SheetError(_unreadable(_("an element is too long")))
        return gap
    if gap + first > MAX_TAG_BYTES:
        raise SheetError(_unreadable(_("an element is too long")))
    return len(chunk) - chunk.rfind(b"<") - 1


class _SharedStringsPass(_Pass):
    """The shared-string table: how many, how long, and the texts the header refers to."""

    def __init__(self, limits: SheetLimits, deadline: float, *, wanted: set[int]) -> None:
        super().__init__(limits, deadline)
        self.wanted = wanted
        self.texts: dict[int, str] = {}
        self.count = 0
        self.in_string = False
        self.elements = 0
        self.chars = 0
        self.pieces: list[str] = []

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 2:
            self.in_string = True
            self.count += 1
            self.elements = 0
            self.chars = 0
            self.pieces = []
            if self.count > MAX_SHARED_STRINGS:
                raise SheetError(
                    _(
                        "The workbook holds more than %(max)s different texts: split it "
                        "over several files."
                    )
                    % {"max": f"{MAX_SHARED_STRINGS:,}"}
                )
        elif self.in_string:
            self.elements += 1
            if self.elements > MAX_ELEMENTS_PER_ROW:
                raise SheetError(_unreadable(_("a text has too many formatting runs")))

    def _end(self, name: str) -> None:
        if self.depth == 2:
            self.in_string = False
            if self.count - 1 in self.wanted:
                self.texts[self.count - 1] = "".join(self.pieces)
        self.depth -= 1

    def _text(self, data: str) -> None:
        if not self.in_string:
            return
        self.chars += len(data)
        if self.chars > self.limits.max_cell_chars:
            beginning = "".join(self.pieces)[:20] or data[:20]
            raise SheetError(
                _(
                    "A cell holds more than %(max)s characters, more than a spreadsheet "
                    "cell may hold (its text begins “%(text)s”); nothing more was read."
                )
                % {"max": f"{self.limits.max_cell_chars:,}", "text": excerpt(beginning, 20)}
            )
        if self.count - 1 in self.wanted or not self.pieces:
            self.pieces.append(data if self.count - 1 in self.wanted else data[:20])


def _row_number(value: str | None, previous: int) -> int:
    if value is None:
        return previous + 1
    if not value.isdigit() or len(value) > 9:
        raise SheetError(_unreadable(_("a row number is invalid")))
    return int(value)


def _column_number(reference: str | None, previous: int) -> int:
    """The 1-based column of a cell reference such as ``B12`` (the next one when absent)."""
    if reference is None:
        return previous + 1
    letters = reference.rstrip("0123456789")
    if not 1 <= len(letters) <= 3 or not letters.isalpha() or not letters.isascii():
        raise SheetError(_unreadable(_("a cell reference is invalid")))
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class _SheetPass(_Pass):
    """A sheet: what precedes the data, each row and cell, and the last row used.

    For the sheet to import (``first``) it also keeps row 1, the header, so that a
    problem found here can be named by its column's title.
    """

    def __init__(self, limits: SheetLimits, deadline: float, *, first: bool) -> None:
        super().__init__(limits, deadline)
        self.first = first
        self.in_data = False
        self.before_data = 0
        self.row = 0
        self.row_elements = 0
        self.row_has_content = False
        self.column = 0
        self.in_cell = False
        self.cell_type = ""
        self.cell_chars = 0
        self.last_row = 0
        # Row 1's cells: column → (cell type, text seen in the cell).
        self.header_cells: dict[int, tuple[str, list[str]]] = {}

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if not self.in_data:
            if self.depth == 2 and name.rpartition(":")[2] == "sheetData":
                self.in_data = True
                return
            self.before_data += 1
            if self.before_data > MAX_ELEMENTS_BEFORE_DATA:
                raise SheetError(_unreadable(_("too many settings before the rows")))
            return
        if self.depth == 3:
            self.row = _row_number(attributes.get("r"), self.row)
            self.row_elements = 0
            self.row_has_content = False
            self.column = 0
            return
        self.row_elements += 1
        if self.row_elements > MAX_ELEMENTS_PER_ROW:
            self._stop(
                _("The row has more than %(max)s cells and parts: it cannot be read.")
                % {"max": f"{MAX_ELEMENTS_PER_ROW:,}"}
            )
        if self.depth == 4:
            self.column = _column_number(attributes.get("r"), self.column)
            self.in_cell = True
            self.cell_type = attributes.get("t", "n")
            self.cell_chars = 0
            if self.first and self.row == 1 and self.column <= self.limits.max_columns:
                self.header_cells[self.column - 1] = (self.cell_type, [])

    def _end(self, name: str) -> None:
        if self.in_data:
            if self.depth == 2:
                raise _EndOfDataError
            if self.depth == 4:
                self.in_cell = False
            elif self.depth == 3 and self.row_has_content:
                if self.first and self.row > self.limits.max_rows:
                    self._stop(_too_many_rows(self.limits))
                self.last_row = max(self.last_row, self.row)
        self.depth -= 1

    def _text(self, data: str) -> None:
        if not self.in_cell:
            return
        self.row_has_content = self.row_has_content or self.depth >= 5
        self.cell_chars += len(data)
        if self.cell_chars > self.limits.max_cell_chars:
            self._stop(cell_too_long_message(self.limits), column=self.column - 1)
        if self.row == 1 and self.depth >= 5 and self.column - 1 in self.header_cells:
            self.header_cells[self.column - 1][1].append(data)

    def _stop(self, message: str, *, column: int | None = None) -> None:
        raise SheetError(message, row=self.row, column=column)

    def shared_indexes(self) -> set[int]:
        """The shared strings row 1 refers to."""
        indexes = set()
        for cell_type, pieces in self.header_cells.values():
            text = "".join(pieces).strip()
            if cell_type == "s" and text.isdigit() and len(text) <= 9:
                indexes.add(int(text))
        return indexes

    def header(self, shared: dict[int, str]) -> tuple[str | None, ...]:
        """Row 1 as text, as far as it was seen (shared strings looked up in ``shared``)."""
        if not self.header_cells:
            return ()
        values: list[str | None] = [None] * (max(self.header_cells) + 1)
        for index, (cell_type, pieces) in self.header_cells.items():
            text = "".join(pieces)
            if cell_type == "s":
                number = text.strip()
                text = shared.get(int(number), "") if number.isdigit() else ""
            values[index] = text
        return tuple(values)


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
            raise SheetError(_too_slow(self._limits))
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
            raise SheetError(_too_slow(limits), row=number)
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
            raise SheetError(_too_many_rows(limits), row=number)
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
    first sheet is found before openpyxl reads anything and carries the sheet's row 1
    (``SheetError.header``), so the importer can name the column by its title.
    """
    deadline = time.monotonic() + limits.max_seconds
    if len(data) > limits.max_file_bytes:
        raise SheetError(file_too_large_message(limits.max_file_bytes))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            package = archive_check(archive)
            paths = _worksheet_paths(archive, package)
            if not paths:
                return
            last_row = _streaming_pass(archive, package, paths, limits=limits, deadline=deadline)
            yield from _openpyxl_rows(data, last_row, limits=limits, deadline=deadline)
    except SheetError:
        raise
    except Exception as error:  # zipfile, zlib, expat and openpyxl raise many kinds
        logger.info("unreadable .xlsx upload: %r", error, exc_info=True)
        raise SheetError(_unreadable(error)) from error


_WORKBOOK_TYPES = {
    _SPREADSHEETML + "sheet.main+xml",
    _SPREADSHEETML + "template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}


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
) -> int:
    """Step 2 for every sheet openpyxl opens and the shared strings; the last row used.

    openpyxl looks for the size of every sheet when it opens the workbook and, when a
    sheet does not state it, reads that sheet's rows to the end: every sheet is checked.
    """
    first, *others = paths
    first_pass = _SheetPass(limits, deadline, first=True)
    try:
        first_pass.run(archive, first)
    except SheetError as error:
        problem: SheetError | None = error
    else:
        problem = None
    shared: dict[int, str] = {}
    if package.shared_strings is not None:
        strings = _SharedStringsPass(limits, deadline, wanted=first_pass.shared_indexes())
        strings.run(archive, package.shared_strings)
        shared = strings.texts
    if problem is not None:
        if problem.row:
            problem.header = first_pass.header(shared)
        raise problem
    for other in others:
        try:
            _SheetPass(limits, deadline, first=False).run(archive, other)
        except SheetError as error:
            raise SheetError(
                _("Another sheet of the workbook (%(part)s) cannot be read: %(message)s")
                % {"part": excerpt(other, 80), "message": error.message}
            ) from error
    return first_pass.last_row


def _openpyxl_rows(
    data: bytes, last_row: int, *, limits: SheetLimits, deadline: float
) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    if last_row == 0:
        return
    workbook = load_workbook(
        _DeadlineFile(data, deadline=deadline, limits=limits),
        read_only=True,
        data_only=True,
        keep_links=False,
    )
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(
            min_row=1, max_row=last_row, max_col=limits.max_columns, values_only=True
        )
        rows = bounded_rows(values, limits=limits, deadline=deadline)
        try:
            for number, row in enumerate(rows, start=1):
                yield row
                # Stop at the last row with content: openpyxl would go on to parse
                # whatever follows the data.
                if number >= last_row:
                    return
        finally:
            rows.close()
            values.close()
    finally:
        workbook.close()
