"""``python manage.py extract_document_text [--force] [ID …]``: read attached files for search.

New and replaced files are read by the ``cms.document_text_extract`` task as they are
uploaded. This command reads the documents uploaded before that existed (or all of them
again with ``--force``, e.g. after the extraction improved), in this process; the pages
that use a document whose text changed are re-indexed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from wagtail.documents import get_document_model

from cms.extraction import document_text_extract
from cms.models import DocumentText


class Command(BaseCommand):
    help = "Extract the text of Wagtail documents (PDF, DOCX, TXT) for search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="only these documents")
        parser.add_argument(
            "--force", action="store_true", help="read files again even if unchanged"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        documents = get_document_model().objects.order_by("pk")
        if options["ids"]:
            documents = documents.filter(pk__in=options["ids"])
        counts: dict[str, int] = {}
        for document_id in documents.values_list("pk", flat=True).iterator():
            record = document_text_extract(document_id=document_id, force=options["force"])
            if record is None:
                continue
            counts[record.status] = counts.get(record.status, 0) + 1
            if record.status == DocumentText.Status.FAILED and options["verbosity"] >= 1:
                self.stderr.write(f"Document {document_id}: {record.error}")
        summary = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
        self.stdout.write(f"Documents read: {summary or 'none'}.")
