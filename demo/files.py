"""Original files (PDF) of some demo policy documents, attached by ``demo.content``.

Each PDF is the document as issued: the text of ``demo.content_data`` laid out like a
printed document, plus an annex (附件) that exists only in the file, so searching for a
word of the annex finds the page only through its attached file. The PDFs are built by
``python -m tools.build_demo_pdfs`` from the texts in that module and committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent / "data" / "policies"
COLLECTION_NAME = "示范文件"


@dataclass(frozen=True)
class DemoFile:
    page_slug: str  # the PolicyDocumentPage whose original file it is
    filename: str
    title: str  # the Wagtail document's title

    @property
    def path(self) -> Path:
        return DIRECTORY / self.filename


DEMO_FILES = (
    DemoFile(
        page_slug="policy-2025-organisation-02",
        filename="policy-2025-organisation-02.pdf",
        title="机关党支部标准化建设工作方案（青机组发〔2025〕2号）",
    ),
    DemoFile(
        page_slug="policy-2022-office-05",
        filename="policy-2022-office-05.pdf",
        title="关于做好2022年度党费收缴工作的通知（青机党办〔2022〕5号）",
    ),
)
