"""The admin report of text read from documents: editors see it and can have a file read again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cms.models import DocumentText
from tests.factories.documents import docx_bytes, upload
from tests.factories.people import MemberFactory

pytestmark = pytest.mark.django_db


def test_editors_see_what_was_read_from_each_document(
    client, editor, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            upload(
                f"通知{number}", f"notice{number}.docx", docx_bytes("关于开展主题党日活动的通知")
            )
        upload("扫描件", "scan.bin", b"\x00\x01not a document")
    upload("新上传", "new.docx", docx_bytes("尚未读取"))
    client.force_login(editor)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("cms_document_texts"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "通知2" in page and "扫描件" in page
    failed = client.get(reverse("cms_document_texts"), {"status": "unsupported"}).content.decode()
    assert "扫描件" in failed and "通知1" not in failed
    pending = client.get(reverse("cms_document_texts"), {"status": "pending"}).content.decode()
    assert "新上传" in pending and "通知1" not in pending


def test_read_again_extracts_the_file_once_more(client, editor, django_capture_on_commit_callbacks):
    document = upload("学习材料", "study.docx", docx_bytes("不忘初心、牢记使命"))
    DocumentText.objects.filter(document=document).delete()
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cms_document_text_refresh", args=[document.pk]))
    assert response.status_code == 302
    assert "牢记使命" in DocumentText.objects.get(document=document).text


def test_members_cannot_see_the_report_or_trigger_reading(client, tree):
    client.force_login(MemberFactory(organization=tree.branch_a1))
    assert client.get(reverse("cms_document_texts")).status_code in (302, 403)
    assert client.post(reverse("cms_document_text_refresh", args=[1])).status_code in (302, 403)
