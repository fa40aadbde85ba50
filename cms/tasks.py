"""Background jobs of ``cms``: scheduled publishing."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(name="cms.publish_scheduled")
def publish_scheduled() -> None:
    """Every minute: publish pages whose go-live time has come, unpublish expired ones."""
    call_command("publish_scheduled", verbosity=0)
