"""Original files (PDF) of some demo policy documents, attached by ``demo.content``.

Each PDF is the document as issued: the text of its Markdown file in ``demo/data/policies/``
laid out like a printed document, plus an annex (附件) that exists only in the file, so
searching for a word of the annex finds the page only through its attached file. The PDFs
lie beside the Markdown files and are named by the document's ``original_file`` field
(its ``original_file_title`` is the Wagtail document's title); they are built by
``python -m tools.build_demo_pdfs`` from those texts and committed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo import content_data

DIRECTORY = content_data.DATA_DIRECTORY / "policies"
COLLECTION_NAME = "示范文件"


@dataclass(frozen=True)
class DemoFile:
    page_slug: str  # the PolicyDocumentPage whose original file it is
    filename: str
    title: str  # the Wagtail document's title

    @property
    def path(self) -> Path:
        return DIRECTORY / self.filename


DEMO_FILES: tuple[DemoFile, ...]


def __getattr__(name: str) -> Any:
    # Lazy, like the content it comes from: read on first use, not on import.
    if name == "DEMO_FILES":
        return _demo_files()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _demo_files() -> tuple[DemoFile, ...]:
    return tuple(
        DemoFile(
            page_slug=document.slug,
            filename=document.original_file,
            title=document.original_file_title,
        )
        for document in content_data.POLICY_DOCUMENTS
        if document.original_file
    )
