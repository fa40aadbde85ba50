"""The admin's report of what search could read from each document (PDF, DOCX, TXT).

Editors see, per document, whether its text was extracted, how much, and why not (a
scanned PDF without a text layer, an unsupported type, a damaged file), and can have a
document read again. Reading happens in the Celery task, never in the request.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.documents import get_document_model

from cms.models import DocumentText
from cms.tasks import document_text_extract_task
from learning.common.enqueue import task_send_on_commit

PENDING = "pending"
STATUS_FILTERS = {
    PENDING: gettext_lazy("Not read yet"),
    DocumentText.Status.EXTRACTED: DocumentText.Status.EXTRACTED.label,
    DocumentText.Status.UNSUPPORTED: DocumentText.Status.UNSUPPORTED.label,
    DocumentText.Status.FAILED: DocumentText.Status.FAILED.label,
}


def can_view(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm("wagtaildocs.change_document"))


def document_texts_view(request: HttpRequest) -> HttpResponse:
    if not can_view(request.user):
        raise PermissionDenied
    documents = (
        get_document_model().objects.select_related("extracted_text").order_by("-created_at")
    )
    status = request.GET.get("status", "")
    if status == PENDING:
        # No text yet, or text of an earlier file (the task has not read the new one).
        documents = documents.filter(
            Q(extracted_text__isnull=True)
            | (~Q(file_hash="") & ~Q(extracted_text__file_hash=F("file_hash")))
        )
    elif status in STATUS_FILTERS:
        documents = documents.filter(extracted_text__status=status)
    page = Paginator(documents, 30).get_page(request.GET.get("p"))
    rows = []
    for document in page:
        text = getattr(document, "extracted_text", None)
        current = text is not None and (
            not document.file_hash or text.file_hash == document.file_hash
        )
        rows.append(
            {
                "document": document,
                "text": text if current else None,
                "characters": len(text.text) if current and text else 0,
            }
        )
    return TemplateResponse(
        request,
        "cms/admin/document_texts.html",
        {"rows": rows, "page": page, "status": status, "statuses": STATUS_FILTERS.items()},
    )


def document_text_refresh_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_view(request.user):
        raise PermissionDenied
    if request.method != "POST":
        return redirect("cms_document_texts")
    document = get_object_or_404(get_document_model(), pk=pk)
    task_send_on_commit(
        document_text_extract_task, kwargs={"document_id": document.pk, "force": True}
    )
    messages.success(
        request, _("“%(title)s” will be read again in a moment.") % {"title": document.title}
    )
    return redirect("cms_document_texts")
