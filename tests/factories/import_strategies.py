"""Hypothesis strategies of hostile import files, shared by the importers' property tests.

Each strategy yields a ``Sample``: the bytes and a short label, so that a failing
example is reported as "<workbook of 12 rows, 34,567 bytes>", not as megabytes.
"""

from __future__ import annotations

import zipfile

from hypothesis import strategies as st

from tests.factories.xlsx_attacks import (
    SHEET_HEAD,
    SHEET_HEAD_WITHOUT_SIZE,
    SHEET_TAIL,
    package_parts,
    raw_zip,
    sheet_row,
    zip_parts,
)


class Sample:
    """An input and a short description: Hypothesis prints this, not megabytes of it."""

    def __init__(self, label: str, data: bytes) -> None:
        self.label = label
        self.data = data

    def __repr__(self) -> str:
        return f"<{self.label}, {len(self.data):,} bytes>"


def sample(label: str, data: bytes | bytearray | str) -> Sample:
    return Sample(label, data.encode() if isinstance(data, str) else bytes(data))


# --- text -------------------------------------------------------------------

repeated = st.integers(min_value=1, max_value=60_000)
plain_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


def soup(name: str, tokens: list[str]) -> st.SearchStrategy[Sample]:
    """Text made of a format's tokens, some of them repeated many times."""
    piece = st.one_of(
        st.tuples(st.sampled_from(tokens), st.just(1)),
        st.tuples(plain_text, st.just(1)),
        st.tuples(st.sampled_from(tokens), repeated),
    )
    return st.lists(piece, max_size=30).map(
        lambda pieces: sample(
            f"{name} of {len(pieces)} pieces", "".join(token * count for token, count in pieces)
        )
    )


def random_bytes(name: str) -> st.SearchStrategy[Sample]:
    return st.binary(max_size=4_000).map(lambda data: sample(f"random {name}", data))


def huge_or_plain(tokens: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(tokens),
        plain_text,
        st.builds(lambda token, count: token * count, st.sampled_from(tokens), repeated),
    )


# --- workbooks ----------------------------------------------------------------------

XML_TOKENS = [
    "<row>", "</row>", '<row r="3">', '<row r="1048576">', '<row r="99999999999">',
    '<c r="B2" t="inlineStr"><is><t>', "</t></is></c>", '<c t="s"><v>0</v></c>',
    '<c r="XFD5"><v>1</v></c>', "<c/>", "<v>", "</v>", "&amp;", "&#0;", "&#x1F600;",
    "<!--", "-->", "<![CDATA[", "]]>", "<?pi?>", "</sheetData>", "<sheetData/>",
    "<mergeCells>", '<mergeCell ref="A1:B2"/>', "<cols>", '<col min="1" max="1"/>',
    "a", "长", " ", "<", ">", '"',
]  # fmt: skip


@st.composite
def sheets_of_rows(draw: st.DrawFn, header: tuple[str, ...], cells: list[str]) -> Sample:
    rows = draw(st.lists(st.lists(huge_or_plain(cells), max_size=10), max_size=20))
    head = draw(st.sampled_from([SHEET_HEAD, SHEET_HEAD_WITHOUT_SIZE]))
    body = "".join(
        sheet_row(number, values) for number, values in enumerate([header, *rows], start=1)
    )
    data = zip_parts(package_parts((head + body + SHEET_TAIL).encode()))
    return sample(f"workbook of {len(rows)} rows", data)


@st.composite
def sheets_of_tokens(draw: st.DrawFn, header: tuple[str, ...]) -> Sample:
    body = draw(soup("XML", XML_TOKENS)).data
    head = draw(st.sampled_from([SHEET_HEAD, SHEET_HEAD_WITHOUT_SIZE]))
    sheet = head.encode() + sheet_row(1, header).encode() + body + SHEET_TAIL.encode()
    return sample("workbook of XML soup", zip_parts(package_parts(sheet)))


@st.composite
def odd_archives(draw: st.DrawFn, header: tuple[str, ...]) -> Sample:
    parts = package_parts((SHEET_HEAD + sheet_row(1, header) + SHEET_TAIL).encode())
    extra_names = st.one_of(
        st.sampled_from(
            ["../evil.xml", "/abs.xml", "a/" * 15 + "deep.xml", "x\\y.xml", "inner.zip",
             "xl/embeddings/e.docx", "xl/styles.xml", "XL/WORKBOOK.XML", "dir/"]
        ),
        # zipfile cuts a name at its first NUL: "\x00…" would be an empty name.
        st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=30),
    )  # fmt: skip
    for name in draw(st.lists(extra_names, max_size=5)):
        parts[name] = draw(st.binary(max_size=2_000))
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return sample(f"archive of {len(parts)} parts", zip_parts(parts, compression=compression))


@st.composite
def declared_bombs(draw: st.DrawFn) -> Sample:
    """Zips whose directory declares huge parts (the data and CRC are lies)."""
    count = draw(st.integers(min_value=1, max_value=40))
    size = draw(st.integers(min_value=0, max_value=2**32 - 1))
    compressed = draw(st.binary(max_size=2_000))
    names = ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"]
    entries = [
        (names[index] if index < len(names) else f"xl/media/p{index}.bin", compressed, 0, size)
        for index in range(count)
    ]
    return sample(f"{count} parts declaring {size:,} bytes", raw_zip(entries))


@st.composite
def corrupted(draw: st.DrawFn, header: tuple[str, ...], cells: list[str]) -> Sample:
    data = bytearray(draw(sheets_of_rows(header, cells)).data)
    for _index in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[position] = draw(st.integers(min_value=0, max_value=255))
    cut = draw(st.integers(min_value=1, max_value=len(data)))
    return sample("corrupted workbook", bytes(data[:cut]) if draw(st.booleans()) else data)


def workbooks(header: tuple[str, ...], cells: list[str]) -> st.SearchStrategy[Sample]:
    """Sheets of rows (huge cells among them), XML soups, odd archives, declared-size
    bombs, corrupted and truncated workbooks, and random bytes."""
    return st.one_of(
        sheets_of_rows(header, cells),
        sheets_of_tokens(header),
        odd_archives(header),
        declared_bombs(),
        corrupted(header, cells),
        random_bytes("workbook"),
    )
