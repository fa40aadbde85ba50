"""The heartbeat task the beat sends to each worker queue (ops.heartbeats), and the
nightly housekeeping."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from ops.heartbeats import LANES, heartbeat_record

logger = logging.getLogger(__name__)


@shared_task(name="ops.heartbeat", ignore_result=True)
def heartbeat(*, lane: str) -> None:
    """Record that a worker of ``lane``'s queue ran this (safe to run twice or late)."""
    if lane not in LANES:
        raise ValueError(f"unknown heartbeat lane {lane!r}")
    heartbeat_record(name=f"worker:{lane}", at=timezone.now())


@shared_task(name="ops.housekeeping", ignore_result=True)
def housekeeping() -> None:
    """Nightly: delete expired sessions and login records older than
    ``DANGJIAN_LOGIN_RECORDS_DAYS`` (personal data kept no longer than needed)."""
    days = settings.DANGJIAN_LOGIN_RECORDS_DAYS
    call_command("clearsessions")
    call_command("axes_reset_logs", age=days, verbosity=0)
    call_command("axes_reset_failure_logs", age=days, verbosity=0)
    logger.info("housekeeping: expired sessions and login records older than %d days removed", days)
