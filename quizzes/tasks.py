"""Background jobs of ``quizzes`` (thin: they call a service)."""

from __future__ import annotations

from celery import shared_task

from quizzes.import_jobs import question_import_execute


@shared_task(name="quizzes.question_import_run")
def question_import_run(import_id: str) -> str | None:
    """Write a confirmed admin import; a second run of the same import does nothing."""
    job = question_import_execute(import_id=import_id)
    return job.status if job is not None else None
