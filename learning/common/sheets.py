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
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _

from learning.common.text import excerpt

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


def _huge_cell_message() -> str:
    return _(
        "The cell is larger than %(size)d MB, far more than the %(max)s characters a "
        "spreadsheet cell may hold; nothing more was read."
    ) % {"size": MAX_ROW_BYTES // MiB, "max": f"{MAX_CELL_CHARS:,}"}


def _too_many_cells() -> str:
    return _("The row has more than %(max)s cells and parts: it cannot be read.") % {
        "max": f"{MAX_TAGS_PER_ROW // 2:,}"
    }


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


def archive_check(archive: zipfile.ZipFile, *, limits: SheetLimits) -> Package:
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
        if info.file_size > limits.max_part_bytes:
            raise SheetError(
                _part_problem(
                    name,
                    _("a part unpacks to more than %(size)d MB; split the rows over several files")
                    % {"size": limits.max_part_bytes // MiB},
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
        if total > limits.max_archive_bytes:
            raise SheetError(
                _part_problem(
                    name,
                    _("the parts unpack to more than %(size)d MB in all")
                    % {"size": limits.max_archive_bytes // MiB},
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
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    return parser


# The pass looks at bytes with bytes.find and bytes.count, which run in C: a Python call
# per XML element would cost as much as openpyxl's own reading. It is exact because it
# first refuses whatever could hide a "<": comments, CDATA and DOCTYPE (all "<!"),
# processing instructions ("<?" other than the declaration) and encodings other than
# UTF-8 (their NUL bytes). After that every "<" opens or closes a tag, and "<row " opens
# a row. The elements are found with the prefix the root element uses (none, usually);
# an element written with another prefix is not seen, so its bytes count towards the
# row before it: the bounds still hold, only rows may be missed.
_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]{0,100}:)?(worksheet|sst)[\s>]")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d{1,9})[\"']")
_CELL_COLUMN = re.compile(rb"\sr\s*=\s*[\"']([A-Za-z]{1,3})\d*[\"']")
_ANY_TAG = re.compile(rb"<[^<>]*>")
_BOM = b"\xef\xbb\xbf"
_NAME_ENDS = frozenset(b" \t\r\n/>")
# A start tag cut by a chunk boundary is searched again with the next chunk.
_MARGIN = 256


class _UnitTooLongError(Exception):
    """An element of the pass (a row, a shared string) outgrew its bound."""

    def __init__(self, buffer: bytearray, start: int, number: int) -> None:
        super().__init__("unit too long")
        self.buffer = buffer
        self.start = start
        self.number = number


@dataclass
class SheetScan:
    """What the pass learnt about a sheet: its last row with content, whether it states
    its size (openpyxl reads every row of a sheet that does not, as soon as it opens the
    workbook), and the first problem found in a row."""

    last_row: int = 0
    has_dimension: bool = False
    problem: SheetError | None = None


class _Tags:
    """Finds start and end tags of given names, with the part's prefix."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix

    def find(self, buffer: bytearray, name: bytes, start: int, end: int | None = None) -> int:
        """Where ``<name`` (a whole name: ``<row`` is not ``<rowBreaks``) first starts."""
        needle = b"<" + self.prefix + name
        stop = len(buffer) if end is None else end
        position = buffer.find(needle, start, stop)
        while position != -1:
            after = position + len(needle)
            if after < len(buffer) and buffer[after] in _NAME_ENDS:
                return position
            position = buffer.find(needle, position + 1, stop)
        return -1

    def find_end(self, buffer: bytearray, name: bytes, start: int, end: int) -> tuple[int, int]:
        """Where ``</name>`` (or an empty ``<name/>``) starts and ends; (-1, -1) if absent."""
        close = buffer.find(b"</" + self.prefix + name, start, end)
        if close != -1:
            finish = buffer.find(b">", close, end)
            return close, (finish + 1 if finish != -1 else end)
        opening = self.find(buffer, name, start, end)
        if opening != -1:
            finish = buffer.find(b">", opening, end)
            if finish != -1 and buffer[finish - 1 : finish] == b"/":
                return opening, finish + 1
        return -1, -1


def _chunks(
    archive: zipfile.ZipFile, name: str, *, limits: SheetLimits, deadline: float
) -> Iterator[bytes]:
    """The part unpacked chunk by chunk, each chunk checked as the pass needs."""
    previous = b""
    first = True
    with archive.open(name) as stream:
        while chunk := stream.read(_READ_CHUNK):
            if time.monotonic() > deadline:
                raise SheetError(_too_slow(limits))
            declaration = len(_BOM) if first and chunk.startswith(_BOM) else 0
            if first and chunk.startswith(b"<?", declaration):
                declaration += 2
            if (
                b"\x00" in chunk
                or b"<!" in chunk
                or chunk.find(b"<?", declaration) != -1
                or previous + chunk[:1] in (b"<!", b"<?")
            ):
                raise SheetError(_unreadable(_("the XML holds unusual declarations")))
            previous = chunk[-1:]
            first = False
            yield chunk


def _units(
    chunks: Iterable[bytes], name: bytes, *, root: bytes, max_bytes: int
) -> Iterator[tuple[bytearray, _Tags, int, int, int]]:
    """Each ``<name`` element with all that follows it up to the next one (the last one
    up to the end of the part), as (buffer, tags, number, start, end).

    What precedes the first one is unit 0. The buffer holds the unit in progress and
    one chunk; a unit over ``max_bytes`` raises ``_UnitTooLongError``.
    """
    buffer = bytearray()
    tags: _Tags | None = None
    number = 0
    searched = 0
    for chunk in chunks:
        buffer += chunk
        if tags is None:
            found = _ROOT.search(buffer)
            if found is None or found.group(2) != root:
                raise SheetError(_unreadable(_("the part is not what the workbook says")))
            tags = _Tags(found.group(1) or b"")
        start = 0
        position = max(searched - _MARGIN, 1)
        while (found_at := tags.find(buffer, name, position)) != -1:
            yield buffer, tags, number, start, found_at
            number += 1
            start = found_at
            position = start + 1
        if len(buffer) - start > max_bytes:
            raise _UnitTooLongError(buffer, start, number)
        del buffer[:start]
        searched = len(buffer)
    if tags is None:
        raise SheetError(_unreadable(_("the part is empty")))
    yield buffer, tags, number, 0, len(buffer)


def sheet_scan(
    archive: zipfile.ZipFile, name: str, *, limits: SheetLimits, deadline: float, first: bool
) -> SheetScan:
    """Measure one sheet part without building any of it (step 2 of the module).

    A problem of the file as a whole raises ``SheetError``; one in a row is kept in
    ``SheetScan.problem``.
    """
    scan = SheetScan()
    row = 0
    data_ended = False
    besides_rows = 0
    chunks = _chunks(archive, name, limits=limits, deadline=deadline)
    units = _units(chunks, b"row", root=b"worksheet", max_bytes=MAX_ROW_BYTES)
    try:
        for buffer, tags, number, start, end in units:
            if number == 0:
                data = tags.find(buffer, b"sheetData", start, end)
                settings_end = data if data != -1 else end
                scan.has_dimension = tags.find(buffer, b"dimension", start, settings_end) != -1
                data_ended = data == -1 or tags.find_end(buffer, b"sheetData", start, end)[0] != -1
            if number == 0 or data_ended:
                # Before the first row, or after the data: what openpyxl may build whole.
                besides_rows += buffer.count(b"<", start, end)
                if besides_rows > MAX_TAGS_BESIDES_ROWS:
                    raise SheetError(_unreadable(_("too many settings besides the rows")))
                continue
            tag_end = buffer.find(b">", start, end)
            found = _ROW_NUMBER.search(buffer, start, tag_end if tag_end != -1 else end)
            row = int(found.group(1)) if found else row + 1
            data_end, data_end_finish = tags.find_end(buffer, b"sheetData", start, end)
            row_end = data_end if data_end != -1 else end
            if buffer.count(b"<", start, row_end) > MAX_TAGS_PER_ROW:
                raise SheetError(_too_many_cells(), row=row)
            # A value or an inline text: what makes a row more than formatting.
            if tags.find(buffer, b"v", start, row_end) != -1 or (
                tags.find(buffer, b"t", start, row_end) != -1
            ):
                if first and row > limits.max_rows:
                    raise SheetError(_too_many_rows(limits), row=row)
                scan.last_row = max(scan.last_row, row)
            if data_end != -1:
                data_ended = True
                besides_rows += buffer.count(b"<", data_end_finish, end)
    except _UnitTooLongError as too_long:
        scan.problem = _too_long_unit(too_long, row)
    except SheetError as error:
        if not error.row:
            raise
        scan.problem = error
    if scan.problem is not None and not scan.problem.row:
        raise scan.problem
    return scan


def _too_long_unit(error: _UnitTooLongError, previous_row: int) -> SheetError:
    buffer, start = error.buffer, error.start
    tags = _Tags(_prefix_of(buffer, start))
    if error.number == 0 or tags.find_end(buffer, b"sheetData", start, len(buffer))[0] != -1:
        return SheetError(_unreadable(_("too many settings besides the rows")))
    tag_end = buffer.find(b">", start)
    found = _ROW_NUMBER.search(buffer, start, tag_end if tag_end != -1 else len(buffer))
    row = int(found.group(1)) if found else previous_row + 1
    if buffer.count(b"<", start) > MAX_TAGS_PER_ROW:
        return SheetError(_too_many_cells(), row=row)
    # A few cells, one of them huge: name it by its column.
    cells = []
    position = tags.find(buffer, b"c", start)
    while position != -1:
        cells.append(position)
        position = tags.find(buffer, b"c", position + 1)
    column = None
    if cells:
        ends = [*cells[1:], len(buffer)]
        widest = max(range(len(cells)), key=lambda index: ends[index] - cells[index])
        letters = _CELL_COLUMN.search(buffer, cells[widest], cells[widest] + 200)
        if letters is not None:
            column = _column_index(letters.group(1).decode("ascii"))
    return SheetError(_huge_cell_message(), row=row, column=column)


def _prefix_of(buffer: bytearray, start: int) -> bytes:
    """The prefix of the element starting at ``start`` (``x:`` in ``<x:row``)."""
    name_end = start + 1
    while name_end < len(buffer) and buffer[name_end] not in _NAME_ENDS:
        name_end += 1
        if name_end - start > 110:
            break
    name = bytes(buffer[start + 1 : name_end])
    return name.rpartition(b":")[0] + b":" if b":" in name else b""


def _column_index(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


def shared_strings_scan(
    archive: zipfile.ZipFile, name: str, *, limits: SheetLimits, deadline: float
) -> None:
    """Measure the shared-string table, which openpyxl reads whole: how many strings,
    how large each one, how many formatting runs."""
    chunks = _chunks(archive, name, limits=limits, deadline=deadline)
    units = _units(chunks, b"si", root=b"sst", max_bytes=MAX_STRING_BYTES)
    try:
        for buffer, _tags, number, start, end in units:
            if number > MAX_SHARED_STRINGS:
                raise SheetError(
                    _(
                        "The workbook holds more than %(max)s different texts: split it "
                        "over several files."
                    )
                    % {"max": f"{MAX_SHARED_STRINGS:,}"}
                )
            if buffer.count(b"<", start, end) > MAX_TAGS_PER_ROW:
                raise SheetError(_unreadable(_("a text has too many formatting runs")))
    except _UnitTooLongError as too_long:
        head = bytes(too_long.buffer[too_long.start : too_long.start + 400])
        beginning = _ANY_TAG.sub(b"", head).decode("utf-8", "replace")
        raise SheetError(
            _(
                "A text in the workbook is larger than %(size)d MB, far more than a "
                "spreadsheet cell may hold (it begins “%(text)s”)."
            )
            % {"size": MAX_STRING_BYTES // MiB, "text": excerpt(beginning, 20)}
        ) from None


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
