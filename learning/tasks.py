"""Background jobs of ``learning`` (thin: they call a selector or service and log)."""

from __future__ import annotations

import logging

from celery import shared_task

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
