"""Background jobs of ``quizzes`` (thin: they call a service)."""

from __future__ import annotations

from celery import shared_task

from quizzes.bank.import_jobs import question_import_execute


@shared_task(name="quizzes.question_import_run")
def question_import_run(import_id: str) -> str | None:
    """Write a confirmed admin import; a second run of the same import does nothing."""
    job = question_import_execute(import_id=import_id)
    return job.status if job is not None else None


@shared_task(name="quizzes.submit_overdue_attempts")
def submit_overdue_attempts() -> int:
    """Submit attempts whose deadline has passed (beat runs this every 30 seconds)."""
    from quizzes.taking.submitting import attempts_submit_overdue

    return attempts_submit_overdue()


@shared_task(name="quizzes.make_daily_quiz")
def make_daily_quiz() -> int:
    """Make today's daily quiz if no request has made it yet; safe to run twice."""
    from quizzes.taking.daily import daily_quiz_make

    return daily_quiz_make().pk


@shared_task(name="quizzes.quiz_statistics_recompute")
def quiz_statistics_recompute(quiz_id: int) -> str | None:
    """Recompute and cache one quiz's statistics (queued by the statistics page)."""
    from quizzes.results.statistics_cache import quiz_statistics_compute

    data = quiz_statistics_compute(quiz_id=quiz_id)
    return data["stamp"] if data else None
