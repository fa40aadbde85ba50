"""Hostile .xlsx files for the import tests, built in memory and small on disk.

``bomb_xlsx`` is the penetration test's file: one inline-string cell holding hundreds of
megabytes of text, compressed to a few hundred kilobytes. The sheet's text is never held
in memory here: identical 1 MiB blocks compress to identical deflate blocks after a full
flush, so the compressed stream is one block repeated, and the zip is written by hand.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterable
from typing import TypeVar
from xml.sax.saxutils import escape

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Excel states a sheet's size (<dimension>); a hand-made hostile file need not.
SHEET_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
    '<dimension ref="A1:Z99"/><sheetData>'
)
SHEET_HEAD_WITHOUT_SIZE = SHEET_HEAD.replace('<dimension ref="A1:Z99"/>', "")
SHEET_TAIL = "</sheetData></worksheet>"
MiB = 1024 * 1024
T = TypeVar("T")

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}</Types>"
)
SHARED_STRINGS_OVERRIDE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="题目" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>'
)
SHARED_STRINGS_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)


def inline_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def sheet_row(number: int, values: Iterable[str]) -> str:
    cells = "".join(
        inline_cell(f"{chr(ord('A') + index)}{number}", value)
        for index, value in enumerate(values)
        if value != ""
    )
    return f'<row r="{number}">{cells}</row>'


def package_parts(sheet_xml: bytes, *, shared_strings: bytes | None = None) -> dict[str, bytes]:
    """The parts of a minimal workbook around the given sheet (and shared-string table)."""
    parts = {
        "[Content_Types].xml": CONTENT_TYPES.format(
            extra=SHARED_STRINGS_OVERRIDE if shared_strings is not None else ""
        ).encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.format(
            extra=SHARED_STRINGS_REL if shared_strings is not None else ""
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    return parts


def zip_parts(parts: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sheet_xlsx(
    rows: Iterable[Iterable[str]], *, far_rows: dict[int, Iterable[str]] | None = None
) -> bytes:
    """A workbook whose first sheet holds ``rows`` from row 1 (and ``far_rows`` by number)."""
    body = "".join(sheet_row(number, values) for number, values in enumerate(rows, start=1))
    body += "".join(sheet_row(number, values) for number, values in (far_rows or {}).items())
    return zip_parts(package_parts((SHEET_HEAD + body + SHEET_TAIL).encode()))


# --- the bomb: a zip written by hand around a repeated deflate block ------------------


def _deflate_repeated(prefix: bytes, block: bytes, count: int, suffix: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor forgets the history: the same input gives the
    # same output, so one compressed block stands for all ``count`` of them.
    body = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush()
    return head + body * count + tail


def _crc_repeated(prefix: bytes, block: bytes, count: int, suffix: bytes) -> int:
    crc = zlib.crc32(prefix)
    for _index in range(count):
        crc = zlib.crc32(block, crc)
    return zlib.crc32(suffix, crc)


def raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, raw deflate data, crc, declared uncompressed size) entries.

    Nothing checks that the data matches the declared size or CRC: the directory may lie.
    """
    out = io.BytesIO()
    central = []
    for name, compressed, crc, size in entries:
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0,
                8,
                0,
                0,
                crc,
                len(compressed),
                size,
                len(encoded),
                0,
            )
        )
        out.write(encoded)
        out.write(compressed)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(compressed),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0)
    )
    return out.getvalue()


@functools.cache
def bomb_xlsx(
    megabytes: int = 600, header: tuple[str, ...] = ("题型", "题干"), first: str = "单选"
) -> bytes:
    """A workbook whose row 2, column B is one inline string of ``megabytes`` MiB of "a"."""
    prefix = (
        SHEET_HEAD
        + sheet_row(1, header)
        + f'<row r="2">{inline_cell("A2", first)}<c r="B2" t="inlineStr"><is><t>'
    ).encode()
    suffix = ("</t></is></c></row>" + SHEET_TAIL).encode()
    block = b"a" * MiB
    entries = []
    for name, data in package_parts(b"").items():
        if name == "xl/worksheets/sheet1.xml":
            compressed = _deflate_repeated(prefix, block, megabytes, suffix)
            crc = _crc_repeated(prefix, block, megabytes, suffix)
            size = len(prefix) + megabytes * MiB + len(suffix)
            entries.append((name, compressed, crc, size))
            continue
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        compressed = compressor.compress(data) + compressor.flush()
        entries.append((name, compressed, zlib.crc32(data), len(data)))
    return raw_zip(entries)


def big_cell_xlsx(
    characters: int,
    header: tuple[str, ...] = ("题型", "题干", "答案"),
    *,
    head: str = SHEET_HEAD,
) -> bytes:
    """A workbook with one inline cell (row 2, column B) of ``characters`` characters.

    The text compresses about 25 to 1, like a real sheet's rather than a bomb's, so the
    archive checks let it through and the cell's own bound is what refuses it.
    """
    sheet = io.BytesIO()
    sheet.write(
        (
            head
            + sheet_row(1, header)
            + f'<row r="2">{inline_cell("A2", "单选")}<c r="B2" t="inlineStr"><is><t>'
        ).encode()
    )
    block = _realistic_block()
    for _index in range(characters // len(block)):
        sheet.write(block)
    sheet.write(block[: characters % len(block)])
    sheet.write(("</t></is></c></row>" + SHEET_TAIL).encode())
    return zip_parts(package_parts(sheet.getvalue()))


def realistic_text(characters: int) -> str:
    """ASCII text that compresses about 25 to 1, as a real sheet's XML does."""
    block = _realistic_block().decode("ascii")
    return (block * (characters // len(block) + 1))[:characters]


@functools.cache
def _realistic_block() -> bytes:
    rng = random.Random(0)
    block = bytearray()
    while len(block) < MiB:
        block += b"a" * 31 + bytes([rng.randrange(ord("a"), ord("z") + 1)])
    return bytes(block)


# --- measuring ---------------------------------------------------------------------------


def timed(function: Callable[[], T]) -> tuple[T, float]:
    """``function()``'s result and the CPU time it took in seconds, without tracing.

    CPU time of this thread, not wall time: what a quadratic parse or a bomb costs, and
    the same whether or not the machine is busy with other work (a wall-time budget
    failed on a loaded two-core machine, at 2.26 s for a 1.7 KB workbook).
    """
    started = time.thread_time()
    result = function()
    return result, time.thread_time() - started


def measured(function: Callable[[], T]) -> tuple[T, float, int]:
    """``function()``'s result, its CPU time in seconds and its peak of traced memory.

    The time is taken with tracing on, so it is an upper bound of the real time.
    """
    tracemalloc.start()
    started = time.thread_time()
    try:
        result = function()
        elapsed = time.thread_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, elapsed, peak
