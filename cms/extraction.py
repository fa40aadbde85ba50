"""The text of attached files (PDF, DOCX, TXT), extracted so search can find it.

- :func:`extract_text` turns a file's bytes into plain text. It never raises: encrypted,
  corrupt and unsupported files come back with a status and an error message, and the
  text is bounded in length, pages and time.
- :func:`document_text_extract` (the service, run by the Celery task
  ``cms.document_text_extract``) stores that text in :class:`cms.models.DocumentText` and
  has the pages that use the document re-indexed. A file whose hash has not changed is not
  read again.
- :func:`register_signal_handlers` queues the task, after the transaction commits, when a
  document is saved with a new file, and re-indexes the pages of a document that is deleted.

Pages put the text into the search index through ``SearchField("attachment_text")``
(``PolicyDocumentPage``: its original file and attachment blocks; ``LessonPage``: its
attachment blocks). See docs/search.md, "Attached files".
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.utils import timezone
from modelsearch.index import insert_or_update_object
from wagtail.documents import get_document_model
from wagtail.models import Page, ReferenceIndex
from wagtail.utils.file import hash_filelike

from cms.models import DocumentText, PolicyDocumentPage
from learning.common.enqueue import task_send_on_commit

logger = logging.getLogger(__name__)

#: Files larger than this are not read at all (uploads are capped at 20 MB).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Text kept per file; the rest is dropped and the record marked ``truncated``.
MAX_TEXT_CHARS = 200_000
#: PDF pages read per file.
MAX_PDF_PAGES = 500
#: Seconds spent reading one file's pages before the rest is dropped. A single page that
#: never finishes is stopped by the task's time limit instead.
MAX_SECONDS = 60.0
#: Uncompressed size of a DOCX (a zip) that is still read: stops zip bombs.
MAX_DOCX_UNPACKED_BYTES = 200 * 1024 * 1024

ERROR_MAX_LENGTH = 300
UNFINISHED = "The extraction did not finish (the worker stopped while reading this file)."


class ExtractionError(Exception):
    """A file that cannot be read; the message is recorded for the operator."""


@dataclass(frozen=True)
class Extraction:
    """What reading one file gave: a ``DocumentText.Status`` value and the text."""

    status: str
    text: str = ""
    truncated: bool = False
    page_count: int | None = None
    error: str = ""


# --- Reading files (no database) -----------------------------------------------------


class _Budget:
    """The limits of one extraction: characters kept and time spent."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.deadline = clock() + MAX_SECONDS
        self.chars = 0

    def take(self, text: str) -> str:
        """``text``, cut to what still fits."""
        room = MAX_TEXT_CHARS - self.chars
        kept = text[: max(room, 0)]
        self.chars += len(kept)
        return kept

    @property
    def full(self) -> bool:
        return self.chars >= MAX_TEXT_CHARS

    @property
    def out_of_time(self) -> bool:
        return self.clock() > self.deadline


def extract_text(
    data: bytes, extension: str, *, clock: Callable[[], float] = time.monotonic
) -> Extraction:
    """The plain text of a file, by its extension (``pdf``, ``docx``, ``txt``).

    Never raises for a bad file: an encrypted, corrupt or oversized one comes back as
    ``failed`` with an error message, any other type as ``unsupported``.
    """
    kind = extension.lower().lstrip(".")
    reader = _READERS.get(kind)
    if reader is None:
        return Extraction(DocumentText.Status.UNSUPPORTED)
    if len(data) > MAX_FILE_BYTES:
        return _failed(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    budget = _Budget(clock)
    try:
        pages, page_count, truncated = reader(data, budget)
    except ExtractionError as error:
        return _failed(str(error))
    except Exception as error:  # parsers raise anything at all on a broken file
        logger.warning("Could not read a .%s file: %r", kind, error)
        return _failed(f"The file could not be read ({type(error).__name__}: {error}).")
    # Pages are joined like lines, so a sentence that runs on to the next page stays whole.
    text = clean_text("\n".join(page.strip() for page in pages if page.strip()))
    return Extraction(
        DocumentText.Status.EXTRACTED,
        text=text[:MAX_TEXT_CHARS],  # the separators between pages or paragraphs count too
        truncated=truncated or budget.full or len(text) > MAX_TEXT_CHARS,
        page_count=page_count,
    )


def _failed(message: str) -> Extraction:
    return Extraction(DocumentText.Status.FAILED, error=message[:ERROR_MAX_LENGTH])


_Read = tuple[list[str], int | None, bool]  # texts of the pages, page count, truncated


def _read_pdf(data: bytes, budget: _Budget) -> _Read:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        # Many PDFs are encrypted only to restrict printing or copying, with an empty
        # password for reading; those are read. A password to open the file is not known.
        try:
            opened = reader.decrypt("")
        except DependencyError as error:
            message = f"The PDF is encrypted in a way we cannot read: {error}"
            raise ExtractionError(message) from error
        if opened == PasswordType.NOT_DECRYPTED:
            raise ExtractionError("The PDF is protected by a password.")
    page_count = len(reader.pages)
    texts: list[str] = []
    truncated = page_count > MAX_PDF_PAGES
    failures = 0
    for number, page in enumerate(reader.pages):
        if number >= MAX_PDF_PAGES or budget.full or budget.out_of_time:
            truncated = True
            break
        try:
            text = page.extract_text() or ""
        except Exception as error:  # one broken page must not lose the others
            logger.warning("Could not read page %d of a PDF: %r", number + 1, error)
            failures += 1
            continue
        texts.append(budget.take(text))
    if failures and failures == min(page_count, MAX_PDF_PAGES):
        raise ExtractionError("No page of the PDF could be read.")
    return texts, page_count, truncated


def _read_docx(data: bytes, budget: _Budget) -> _Read:
    import docx

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise ExtractionError("The DOCX file unpacks to more than 200 MB.")
    body = docx.Document(io.BytesIO(data)).element.body
    texts: list[str] = []
    truncated = False
    # Every paragraph in document order: body text, table cells, text boxes.
    for paragraph in body.iter(_W_P):
        if budget.full or budget.out_of_time:
            truncated = True
            break
        texts.append(budget.take(_docx_paragraph_text(paragraph)))
    # A blank line between paragraphs: unlike a PDF's line ends, these breaks are real.
    return ["\n\n".join(texts)], None, truncated


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_P = f"{_W}p"
_W_T = f"{_W}t"
_W_TEXT_TAGS = {_W_T: "", f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n"}


def _docx_paragraph_text(paragraph: Any) -> str:
    """The text of one ``w:p``, including runs inside insertions, links and fields, but not
    the paragraphs of a text box inside it (those are read on their own)."""
    parts: list[str] = []
    for element in paragraph.iter(*_W_TEXT_TAGS):
        if next(element.iterancestors(_W_P), None) is not paragraph:
            continue
        parts.append((element.text or "") if element.tag == _W_T else _W_TEXT_TAGS[element.tag])
    return "".join(parts)


def _read_txt(data: bytes, budget: _Budget) -> _Read:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Plain-text files from Chinese Windows are GBK; GB 18030 is its superset.
        text = data.decode("gb18030", errors="replace")
    kept = budget.take(text)
    return [kept], None, len(kept) < len(text)


_READERS: dict[str, Callable[[bytes, _Budget], _Read]] = {
    "pdf": _read_pdf,
    "docx": _read_docx,
    "txt": _read_txt,
}


def _radical_table() -> dict[int, str]:
    # PDF fonts often map ideographs to the look-alike Kangxi radicals (⼯ U+2F2F for 工) or
    # to CJK compatibility ideographs; NFKC folds each to the ordinary character.
    table = {}
    for start, end in ((0x2E80, 0x2FDF), (0xF900, 0xFAFF)):
        for code in range(start, end + 1):
            folded = unicodedata.normalize("NFKC", chr(code))
            if folded != chr(code) and len(folded) == 1:
                table[code] = folded
    return table


_RADICALS = _radical_table()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
# A line break between two characters of running Chinese text is where the PDF's line
# ended, not where the text did: dropping it keeps words that straddle it whole.
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_INSIDE = rf"{_CJK}，、；“”‘’（）《》〔〕—"  # may stand before a wrapped line's end
_CJK_NEXT = rf"{_CJK_INSIDE}。：？！"  # may begin the next line
_WRAPPED = re.compile(rf"(?<=[{_CJK_INSIDE}])\n(?=[{_CJK_NEXT}0-9])|(?<=[0-9])\n(?=[{_CJK_NEXT}])")
# Spaces between Chinese characters are layout (justified lines, a table cell's text
# wrapping inside the cell), never word boundaries.
_SPACED = re.compile(rf"(?<=[{_CJK_INSIDE}]) (?=[{_CJK_NEXT}])")


def clean_text(text: str) -> str:
    """Extracted text made fit for indexing: ordinary ideographs, no control characters,
    single spaces, line breaks only where the text had them."""
    text = text.translate(_RADICALS).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACED.sub("", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return _WRAPPED.sub("", text).strip()


# --- Storing the text and updating the index ---------------------------------------


def document_text_extract(*, document_id: int, force: bool = False) -> DocumentText | None:
    """Extract and store the text of a Wagtail document; re-index the pages that use it.

    Does nothing (and returns the stored record) when the file is the one already read,
    unless ``force``. Returns ``None`` when the document no longer exists.
    """
    document = get_document_model().objects.filter(pk=document_id).first()
    if document is None:
        return None
    previous = DocumentText.objects.filter(document=document).first()
    try:
        with document.open_file() as file:
            file_hash = hash_filelike(file)
            data = file.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as error:  # missing file, or no file at all
        logger.warning("Document %s: cannot open its file: %r", document.pk, error)
        return _record(document, "", _failed(f"The file cannot be opened ({error})."), previous)
    if previous is not None and previous.file_hash == file_hash and not force:
        return previous
    # Recorded before reading, so a file that stops the worker (time limit, memory) is
    # reported as such and not tried again on the document's next save.
    DocumentText.objects.update_or_create(
        document=document,
        defaults={
            "file_hash": file_hash,
            "status": DocumentText.Status.FAILED,
            "text": "",
            "truncated": False,
            "page_count": None,
            "error": UNFINISHED,
            "extracted_at": timezone.now(),
        },
    )
    return _record(document, file_hash, extract_text(data, document.file_extension), previous)


def _record(
    document: Any, file_hash: str, result: Extraction, previous: DocumentText | None
) -> DocumentText:
    record, _ = DocumentText.objects.update_or_create(
        document=document,
        defaults={
            "file_hash": file_hash,
            "status": result.status,
            "text": result.text,
            "truncated": result.truncated,
            "page_count": result.page_count,
            "error": result.error,
            "extracted_at": timezone.now(),
        },
    )
    if result.error:
        logger.warning("Document %s: no text extracted: %s", document.pk, result.error)
    if previous is None or previous.text != record.text:
        pages_reindex(page_ids=pages_using_document(document))
    return record


def pages_using_document(document: Any) -> list[int]:
    """Pages whose search text includes ``document``: policy documents with it as their
    original file, and pages that use it anywhere else (Wagtail's reference index knows
    the attachment blocks)."""
    page_ids = set(
        PolicyDocumentPage.objects.filter(original_file_id=document.pk).values_list("pk", flat=True)
    )
    page_type = ContentType.objects.get_for_model(Page)
    referencing = (
        ReferenceIndex.get_references_to(document)
        .filter(base_content_type=page_type)
        .values_list("object_id", flat=True)
    )
    page_ids.update(int(object_id) for object_id in referencing)
    return sorted(page_ids)


def pages_reindex(*, page_ids: Iterable[int]) -> None:
    """Have the search backends read these pages again (after the transaction commits,
    through the search queue when one is configured)."""
    for page in Page.objects.filter(pk__in=list(page_ids)).specific():
        insert_or_update_object(page)


# --- Signals ---------------------------------------------------------------------------


def _document_saved(
    sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    if raw or not instance.file:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "file" not in update_fields:
        return  # Wagtail filling in file_size or file_hash, a title change …
    if (
        instance.file_hash
        and DocumentText.objects.filter(
            document_id=instance.pk, file_hash=instance.file_hash
        ).exists()
    ):
        return
    from cms.tasks import document_text_extract_task

    task_send_on_commit(document_text_extract_task, kwargs={"document_id": instance.pk})


def _document_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Its pages lose the text; they are read again once the deletion is committed.
    page_ids = pages_using_document(instance)
    if page_ids:
        transaction.on_commit(lambda: pages_reindex(page_ids=page_ids), robust=True)


def register_signal_handlers() -> None:
    document_model = get_document_model()
    post_save.connect(
        _document_saved, sender=document_model, dispatch_uid="cms.extraction.document_saved"
    )
    pre_delete.connect(
        _document_deleted, sender=document_model, dispatch_uid="cms.extraction.document_deleted"
    )
