"""Background jobs of ``cms``: scheduled publishing, text extraction of attached files."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(name="cms.publish_scheduled")
def publish_scheduled() -> None:
    """Every minute: publish pages whose go-live time has come, unpublish expired ones."""
    call_command("publish_scheduled", verbosity=0)


@shared_task(
    name="cms.document_text_extract",
    # Safe to run twice: an unchanged file is not read again.
    acks_late=True,
    ignore_result=True,
    # A file whose parsing never ends must not hold the worker: the soft limit is caught
    # and recorded like any other reading error, the hard one ends the process.
    soft_time_limit=120,
    time_limit=180,
)
def document_text_extract_task(*, document_id: int, force: bool = False) -> None:
    """Extract the text of a Wagtail document for search (queued when its file changes,
    or with ``force`` when an editor asks for it to be read again)."""
    from cms.extraction import document_text_extract

    document_text_extract(document_id=document_id, force=force)
