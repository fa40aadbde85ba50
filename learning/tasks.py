"""Background jobs of ``learning`` (thin: they call a selector or service and log)."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from learning.common.enqueue import unsent_tasks_send
from learning.integrity.digest import integrity_digest_send
from learning.integrity.patterns import study_patterns_flag
from learning.points.ledger_check import ledger_differences

logger = logging.getLogger(__name__)


@shared_task(name="learning.check_ledger")
def check_ledger() -> int:
    """Nightly: compare every stored total with the ledger; log each difference."""
    differences = ledger_differences()
    if differences:
        for difference in differences:
            logger.error("ledger check: %s", difference)
        logger.error("ledger check: %d difference(s) found", len(differences))
    else:
        logger.info("ledger check: every total agrees with the ledger")
    return len(differences)


def _yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


@shared_task(name="learning.flag_study_patterns")
def flag_study_patterns() -> int:
    """Nightly: yesterday's study patterns become integrity flags (learning.integrity)."""
    raised = study_patterns_flag(day=_yesterday())
    logger.info("study patterns: %d new flag(s)", raised)
    return raised


@shared_task(name="learning.integrity_digest")
def integrity_digest() -> int:
    """Every morning: email each reviewer the flags raised in their scope in the last day."""
    return integrity_digest_send(until=timezone.now())


@shared_task(name="learning.send_unsent_tasks")
def send_unsent_tasks() -> int:
    """Every minute: send again the tasks the broker refused (learning.common.enqueue)."""
    sent, waiting = unsent_tasks_send()
    if waiting:
        logger.warning("%d background task(s) still waiting to be queued", waiting)
    return sent
