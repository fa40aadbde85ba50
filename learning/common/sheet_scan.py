"""Steps 1 and 2 of reading an .xlsx within bounds (see ``learning.common.sheets``): the zip's
directory checked without unpacking, then one streaming pass over the XML of the shared
strings and each sheet that builds nothing."""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _

from learning.common.sheet_limits import (
    CHARTSHEET_TYPE,
    CONTENT_TYPES_PART,
    MAX_ARCHIVE_ENTRIES,
    MAX_COMPRESSION_RATIO,
    MAX_NAME_DEPTH,
    MAX_NAME_LENGTH,
    MAX_ROW_BYTES,
    MAX_SHARED_STRINGS,
    MAX_SMALL_PARTS_BYTES,
    MAX_STRING_BYTES,
    MAX_TAGS_BESIDES_ROWS,
    MAX_TAGS_PER_ROW,
    RATIO_CHECKED_FROM,
    SHARED_STRINGS_TYPE,
    WORKBOOK_TYPES,
    WORKSHEET_TYPE,
    MiB,
    SheetError,
    SheetLimits,
    huge_cell_message,
    part_problem,
    too_many_cells,
    too_many_rows,
    too_slow,
    unreadable,
)
from learning.common.text import excerpt

_XML_SUFFIXES = (".xml", ".rels")
_ARCHIVE_SUFFIXES = (
    ".zip", ".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm", ".docx", ".docm", ".pptx",
    ".pptm", ".odt", ".ods", ".jar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar",
)  # fmt: skip
_ZIP_ENCRYPTED = 0x1
_READ_CHUNK = 64 * 1024


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
            raise SheetError(part_problem(name, _("a part has an unusual name")))
        seen.add(name.casefold())
        if info.flag_bits & _ZIP_ENCRYPTED:
            raise SheetError(
                part_problem(name, _("it is encrypted; save it again without a password"))
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SheetError(part_problem(name, _("a part is compressed in an unusual way")))
        if name.endswith("/"):
            if info.file_size:
                raise SheetError(part_problem(name, _("a part has an unusual name")))
            continue
        if name.lower().endswith(_ARCHIVE_SUFFIXES):
            raise SheetError(
                part_problem(name, _("it contains an embedded file; remove embedded objects"))
            )
        if info.file_size > limits.max_part_bytes:
            raise SheetError(
                part_problem(
                    name,
                    _("a part unpacks to more than %(size)d MB; split the rows over several files")
                    % {"size": limits.max_part_bytes // MiB},
                )
            )
        ratio_limit = MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > ratio_limit:
            raise SheetError(
                part_problem(
                    name,
                    _("a part is compressed more than %(ratio)d to 1, as no real sheet is")
                    % {"ratio": MAX_COMPRESSION_RATIO},
                )
            )
        total += info.file_size
        if total > limits.max_archive_bytes:
            raise SheetError(
                part_problem(
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
        raise SheetError(unreadable(_("no content types")))
    if types_info.file_size > MAX_SMALL_PARTS_BYTES:
        raise SheetError(part_problem(types_info.filename, _("a part is unusually large")))
    overrides = _content_types(archive.read(types_info.filename))
    package = Package()
    for part, content_type in overrides:
        if content_type == CHARTSHEET_TYPE:
            raise SheetError(part_problem(part, _("it contains a chart sheet; remove it")))
        if content_type in WORKBOOK_TYPES and package.workbook is None:
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
                part_problem(
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
    raise SheetError(unreadable("DOCTYPE"))


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
                raise SheetError(too_slow(limits))
            declaration = len(_BOM) if first and chunk.startswith(_BOM) else 0
            if first and chunk.startswith(b"<?", declaration):
                declaration += 2
            if (
                b"\x00" in chunk
                or b"<!" in chunk
                or chunk.find(b"<?", declaration) != -1
                or previous + chunk[:1] in (b"<!", b"<?")
            ):
                raise SheetError(unreadable(_("the XML holds unusual declarations")))
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
                raise SheetError(unreadable(_("the part is not what the workbook says")))
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
        raise SheetError(unreadable(_("the part is empty")))
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
                    raise SheetError(unreadable(_("too many settings besides the rows")))
                continue
            tag_end = buffer.find(b">", start, end)
            found = _ROW_NUMBER.search(buffer, start, tag_end if tag_end != -1 else end)
            row = int(found.group(1)) if found else row + 1
            data_end, data_end_finish = tags.find_end(buffer, b"sheetData", start, end)
            row_end = data_end if data_end != -1 else end
            if buffer.count(b"<", start, row_end) > MAX_TAGS_PER_ROW:
                raise SheetError(too_many_cells(), row=row)
            # A value or an inline text: what makes a row more than formatting.
            if tags.find(buffer, b"v", start, row_end) != -1 or (
                tags.find(buffer, b"t", start, row_end) != -1
            ):
                if first and row > limits.max_rows:
                    raise SheetError(too_many_rows(limits), row=row)
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
        return SheetError(unreadable(_("too many settings besides the rows")))
    tag_end = buffer.find(b">", start)
    found = _ROW_NUMBER.search(buffer, start, tag_end if tag_end != -1 else len(buffer))
    row = int(found.group(1)) if found else previous_row + 1
    if buffer.count(b"<", start) > MAX_TAGS_PER_ROW:
        return SheetError(too_many_cells(), row=row)
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
    return SheetError(huge_cell_message(), row=row, column=column)


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
                raise SheetError(unreadable(_("a text has too many formatting runs")))
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
