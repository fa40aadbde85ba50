"""Wagtail documents and the files they hold: a DOCX built in memory, an uploaded file."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.base import ContentFile
from docx import Document as DocxDocument
from wagtail.documents import get_document_model


def docx_bytes(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    """Minutes (会议纪要) as a DOCX: a heading, ``paragraphs``, ``table``, a closing line."""
    document = DocxDocument()
    document.add_heading("会议纪要", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    document.add_paragraph("以上纪要，请各党支部遵照执行。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def upload(title: str, filename: str, data: bytes, **fields: Any) -> Any:
    """A Wagtail document of ``data`` named ``filename``, as the admin's upload saves one."""
    document = get_document_model()(title=title, **fields)
    document.file.save(filename, ContentFile(data), save=False)
    document.save()
    return document
