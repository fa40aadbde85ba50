"""The text of attached PDF and DOCX files: extraction, storage, and search through pages.

Files are uploaded as Wagtail documents and pages are published inside
``django_capture_on_commit_callbacks(execute=True)``, so the extraction task and the
queued index writes run after "commit", as in production (Celery is eager in tests).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from pypdf import PdfWriter
from wagtail.documents import get_document_model
from wagtail.models import Page

from cms import extraction
from cms.extraction import clean_text, document_text_extract, extract_text
from cms.models import DocumentText, LessonPage, PolicyDocumentPage
from demo.files import DEMO_FILES
from tests.factories.documents import docx_bytes, upload
from tests.factories.pages import Content, add_course, add_lesson, add_policy

Document = get_document_model()

STANDARDS_PDF = next(f for f in DEMO_FILES if f.page_slug == "policy-2025-organisation-02").path
PDF_ONLY_WORD = "佐证材料"  # in the annex of that PDF, in no page's text


def encrypted_pdf(*, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(STANDARDS_PDF.read_bytes()))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- Reading files (no database) -----------------------------------------------------


def test_pdf_text_is_extracted_with_ordinary_characters() -> None:
    result = extract_text(STANDARDS_PDF.read_bytes(), "pdf")
    assert result.status == DocumentText.Status.EXTRACTED
    assert result.error == "" and not result.truncated
    assert result.page_count is not None and result.page_count >= 3
    assert "机关党支部标准化建设考评细则" in result.text
    assert PDF_ONLY_WORD in result.text
    # The PDF's font maps 工 to the Kangxi radical ⼯ (U+2F2F); extraction folds it back.
    assert "工作方案" in result.text
    assert not any(0x2F00 <= ord(char) <= 0x2FDF for char in result.text)


def test_docx_text_is_extracted_in_order_with_table_cells() -> None:
    data = docx_bytes(
        "第一项：学习贯彻全会精神。",
        "第二项：部署红色教育基地参观活动。",
        table=[["姓名", "职务"], ["王某某", "支部书记"]],
    )
    result = extract_text(data, "docx")
    assert result.status == DocumentText.Status.EXTRACTED
    text = result.text
    order = ["会议纪要", "学习贯彻全会精神", "红色教育基地", "支部书记", "遵照执行"]
    positions = [text.index(word) for word in order]
    assert positions == sorted(positions)


def test_plain_text_in_utf8_or_gbk_is_read() -> None:
    assert extract_text("三会一课".encode(), "txt").text == "三会一课"
    assert extract_text("三会一课".encode("gbk"), "TXT").text == "三会一课"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("⼯作⽅案", "工作方案"),  # Kangxi radicals from a PDF font
        ("加强党员教\n育管理。\n下一段", "加强党员教育管理。\n下一段"),  # a wrapped line
        ("在3\n月31日前", "在3月31日前"),
        ("查阅批复文 件", "查阅批复文件"),  # a table cell's text wrapping inside the cell
        ("Party  members\nmeet", "Party members\nmeet"),  # Latin spacing is kept
        ("第一页\x00\x0c", "第一页"),  # control characters
        ("甲\n\n\n\n乙", "甲\n\n乙"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("data", "extension"),
    [
        (b"", "pdf"),
        (b"%PDF-1.7\nnot really a PDF", "pdf"),
        (STANDARDS_PDF.read_bytes()[:4000], "pdf"),  # cut off
        (b"PK\x03\x04 not really a zip", "docx"),
        (STANDARDS_PDF.read_bytes(), "docx"),  # a PDF named .docx
    ],
    ids=["empty", "garbage", "truncated", "broken-zip", "wrong-type"],
)
def test_corrupt_files_come_back_failed_with_an_error(data: bytes, extension: str) -> None:
    result = extract_text(data, extension)
    assert result.status == DocumentText.Status.FAILED
    assert result.error and len(result.error) <= extraction.ERROR_MAX_LENGTH
    assert result.text == ""


def test_a_pdf_that_needs_a_password_is_not_read() -> None:
    result = extract_text(encrypted_pdf(user_password="secret"), "pdf")
    assert result.status == DocumentText.Status.FAILED
    assert "password" in result.error


def test_a_pdf_encrypted_only_against_copying_is_read() -> None:
    result = extract_text(encrypted_pdf(user_password=""), "pdf")
    assert result.status == DocumentText.Status.EXTRACTED
    assert PDF_ONLY_WORD in result.text


def test_other_file_types_are_unsupported_not_failed() -> None:
    result = extract_text(b"PK\x03\x04", "xlsx")
    assert result.status == DocumentText.Status.UNSUPPORTED and result.error == ""


def test_the_text_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extraction, "MAX_TEXT_CHARS", 300)
    result = extract_text(STANDARDS_PDF.read_bytes(), "pdf")
    assert result.truncated and 0 < len(result.text) <= 300
    result = extract_text(docx_bytes("党员教育" * 200), "docx")
    assert result.truncated and 0 < len(result.text) <= 300


def test_pages_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extraction, "MAX_PDF_PAGES", 1)
    result = extract_text(STANDARDS_PDF.read_bytes(), "pdf")
    assert result.truncated and result.page_count is not None and result.page_count > 1
    assert "关于印发" in result.text and PDF_ONLY_WORD not in result.text


def test_reading_stops_when_the_time_is_up() -> None:
    ticks = itertools.count(step=extraction.MAX_SECONDS / 2)
    result = extract_text(STANDARDS_PDF.read_bytes(), "pdf", clock=lambda: next(ticks))
    assert result.status == DocumentText.Status.EXTRACTED and result.truncated
    assert PDF_ONLY_WORD not in result.text


def test_oversized_files_and_zip_bombs_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extraction, "MAX_FILE_BYTES", 1000)
    assert extract_text(STANDARDS_PDF.read_bytes(), "pdf").status == DocumentText.Status.FAILED
    monkeypatch.setattr(extraction, "MAX_FILE_BYTES", 10**8)
    monkeypatch.setattr(extraction, "MAX_DOCX_UNPACKED_BYTES", 1000)
    result = extract_text(docx_bytes("一段文字"), "docx")
    assert result.status == DocumentText.Status.FAILED and "unpacks" in result.error


# --- Stored text and search --------------------------------------------------------------


@pytest.fixture
def commit(django_capture_on_commit_callbacks) -> Callable[[], Any]:
    """``with commit(): …`` runs what waits for the commit (the extraction task, queued
    index writes) at the end of the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def replace_file(document: Any, filename: str, data: bytes) -> None:
    document.file.save(filename, ContentFile(data), save=False)
    document.save()


def found(query: str, model: type[Page] = Page) -> list[str]:
    return sorted(page.title for page in model.objects.live().search(query))


def test_an_upload_is_extracted_once_the_transaction_commits(
    db: None, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
    assert callbacks and not DocumentText.objects.exists()
    for callback in callbacks:
        callback()
    text = DocumentText.objects.get(document=document)
    assert text.status == DocumentText.Status.EXTRACTED
    assert PDF_ONLY_WORD in text.text and text.page_count and text.extracted_at


def test_a_word_only_in_the_attached_pdf_finds_the_policy_page(content: Content, commit) -> None:
    with commit():
        document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
        add_policy("关于标准化建设的通知", original_file=document)
        add_policy("另一份通知")
    assert found(PDF_ONLY_WORD) == ["关于标准化建设的通知"]
    assert found(PDF_ONLY_WORD, PolicyDocumentPage) == ["关于标准化建设的通知"]
    assert found("花名册") == ["关于标准化建设的通知"]  # another word of the annex
    assert found("组织实施") == ["关于标准化建设的通知", "另一份通知"]  # the pages' own text


def test_a_hit_in_the_page_itself_ranks_above_one_in_its_file(content: Content, commit) -> None:
    with commit():
        document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
        add_policy("附件里提到", original_file=document)
        add_policy(
            "正文里提到",
            body=[("rich_text", "<p>考评不要求另行制作佐证材料。</p>")],
        )
    results = [page.title for page in Page.objects.live().search(PDF_ONLY_WORD)]
    assert results == ["正文里提到", "附件里提到"]


def test_text_extracted_after_publishing_reindexes_the_page(content: Content, commit) -> None:
    document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())  # not yet read
    with commit():
        add_policy("关于标准化建设的通知", original_file=document)
    assert found(PDF_ONLY_WORD) == []
    with commit():
        document_text_extract(document_id=document.pk)
    assert found(PDF_ONLY_WORD) == ["关于标准化建设的通知"]


def test_files_attached_in_the_body_of_lessons_and_policies_are_searched(
    content: Content, commit
) -> None:
    with commit():
        minutes = upload("会议纪要", "minutes.docx", docx_bytes("部署红色教育基地参观活动。"))
        rules = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
        course = add_course()
        add_lesson(
            course,
            "第一课",
            body=[
                ("rich_text", "<p>本课讲解支部工作。</p>"),
                ("attachment", {"document": minutes, "description": "会议纪要"}),
            ],
        )
        add_policy(
            "关于标准化建设的通知",
            body=[("attachment", {"document": rules, "description": ""})],
        )
    assert found("红色教育基地") == ["第一课"]
    assert found("红色教育基地", LessonPage) == ["第一课"]
    assert found(PDF_ONLY_WORD) == ["关于标准化建设的通知"]


def test_replacing_the_file_extracts_it_again(content: Content, commit) -> None:
    with commit():
        document = upload("会议纪要", "minutes.docx", docx_bytes("部署红色教育基地参观活动。"))
        add_policy("关于参观活动的通知", original_file=document)
    first = DocumentText.objects.get(document=document)
    assert found("红色教育基地") == ["关于参观活动的通知"]

    with commit():
        replace_file(document, "rules.pdf", STANDARDS_PDF.read_bytes())
    second = DocumentText.objects.get(document=document)
    assert second.file_hash != first.file_hash and PDF_ONLY_WORD in second.text
    assert found("红色教育基地") == []
    assert found(PDF_ONLY_WORD) == ["关于参观活动的通知"]


def test_an_unchanged_file_is_not_read_again(
    db: None, commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real_extract_text = extraction.extract_text

    def counting_extract_text(data: bytes, extension: str, **kwargs: Any) -> Any:
        reads.append(extension)
        return real_extract_text(data, extension, **kwargs)

    monkeypatch.setattr(extraction, "extract_text", counting_extract_text)
    with commit():
        document = upload("会议纪要", "minutes.docx", docx_bytes("第一项。"))
    assert reads == ["docx"]
    with commit():
        document.title = "支部会议纪要"
        document.save()
    with commit():
        replace_file(document, "minutes-again.docx", document.file.open("rb").read())
    document_text_extract(document_id=document.pk)
    assert reads == ["docx"]
    document_text_extract(document_id=document.pk, force=True)
    assert reads == ["docx", "docx"]


def test_a_save_with_wagtails_hash_of_the_same_file_queues_no_task(
    db: None, commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    with commit():
        document = upload("会议纪要", "minutes.docx", docx_bytes("第一项。"))
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "cms.extraction.task_send_on_commit",
        lambda task, **options: queued.append(options["kwargs"]),
    )
    document.save()  # no hash known: the task is queued (and will find the file unchanged)
    assert queued == [{"document_id": document.pk}]
    document.file_hash = DocumentText.objects.get(document=document).file_hash
    document.save()  # Wagtail's hash (set by the admin's upload form) matches: no task
    document.save(update_fields=["title"])
    assert queued == [{"document_id": document.pk}]


@pytest.mark.parametrize(
    ("filename", "data", "error"),
    [
        ("broken.pdf", b"%PDF-1.7\nnot really a PDF", "could not be read"),
        ("secret.pdf", None, "password"),
        ("broken.docx", b"PK\x03\x04 not a zip", "could not be read"),
    ],
    ids=["corrupt-pdf", "encrypted-pdf", "corrupt-docx"],
)
def test_a_bad_upload_records_an_error_and_does_not_raise(
    content: Content, commit, filename: str, data: bytes | None, error: str
) -> None:
    with commit():
        document = upload("坏文件", filename, data or encrypted_pdf(user_password="secret"))
        add_policy("关于标准化建设的通知", original_file=document)
    text = DocumentText.objects.get(document=document)
    assert text.status == DocumentText.Status.FAILED
    assert error in text.error and text.text == ""
    assert found("组织实施") == ["关于标准化建设的通知"]  # the page itself is indexed


def test_a_missing_file_records_an_error(db: None, commit) -> None:
    document = upload("会议纪要", "minutes.docx", docx_bytes("第一项。"))
    document.file.storage.delete(document.file.name)
    record = document_text_extract(document_id=document.pk)
    assert record is not None and record.status == DocumentText.Status.FAILED
    assert "cannot be opened" in record.error
    assert document_text_extract(document_id=10**9) is None


def test_a_draft_pages_attachment_is_not_found(content: Content, commit) -> None:
    with commit():
        document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
        draft = add_policy("草稿通知", original_file=document, live=False)
        draft.save_revision()
        published = add_policy("已发布的通知")
        # A live page whose unpublished draft adds the file: the live text has no file.
        published.original_file = document
        published.save_revision()
    assert found(PDF_ONLY_WORD) == []
    assert [page.title for page in Page.objects.search(PDF_ONLY_WORD)] == ["草稿通知"]


def test_deleting_the_document_removes_its_text_from_search(content: Content, commit) -> None:
    with commit():
        document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
        add_policy("关于标准化建设的通知", original_file=document)
    assert found(PDF_ONLY_WORD) == ["关于标准化建设的通知"]
    with commit():
        document.delete()
    assert not DocumentText.objects.exists()
    assert found(PDF_ONLY_WORD) == []


def test_the_command_reads_documents_uploaded_before_the_feature(db: None) -> None:
    document = upload("会议纪要", "minutes.docx", docx_bytes("第一项。"))  # never committed
    broken = upload("坏文件", "broken.pdf", b"%PDF-1.7\nnot really a PDF")
    output, errors = io.StringIO(), io.StringIO()
    call_command("extract_document_text", stdout=output, stderr=errors)
    assert DocumentText.objects.get(document=document).status == DocumentText.Status.EXTRACTED
    assert "extracted 1, failed 1" in output.getvalue()
    assert f"Document {broken.pk}:" in errors.getvalue()


def test_a_hit_only_in_the_attached_file_shows_that_files_text_as_the_snippet(
    content: Content, commit, client, tree
) -> None:
    from tests.factories.people import MemberFactory

    with commit():
        document = upload("考评细则", "rules.pdf", STANDARDS_PDF.read_bytes())
        add_policy("关于标准化建设的通知", original_file=document)
    client.force_login(MemberFactory(organization=tree.branch_a1))
    response = client.get("/search/", {"q": PDF_ONLY_WORD})
    hits = response.context["hits"]
    assert [hit.page.title for hit in hits] == ["关于标准化建设的通知"]
    snippet = str(hits[0].snippet)
    assert "<mark>" in snippet and "现印发给你们" not in snippet  # the file's text, marked
    assert snippet.startswith("附件中：")
