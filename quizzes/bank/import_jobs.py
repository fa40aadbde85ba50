"""Services of the admin import: upload and check, confirm once, run (inline or in Celery).

``question_import_prepare`` parses the uploaded file and checks it against the bank
without writing (a dry run), keeping the bytes and a preview in a ``QuestionImport``.
``question_import_confirm`` claims the import exactly once, so a second click or a
re-submitted form never imports twice. ``question_import_execute`` writes it through
``quizzes.bank.services.questions_import`` — all questions or none — reporting progress.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.common.enqueue import task_send_on_commit
from learning.common.sheets import file_too_large_message
from learning.common.text import excerpt
from quizzes.bank.formats import guess_format, parse_questions
from quizzes.bank.formats.base import (
    FIELD_ANSWER,
    MAX_CHOICES,
    MAX_FILE_BYTES,
    ImportProblem,
    ParsedQuestion,
    type_label,
)
from quizzes.bank.formats.table import COLUMNS, question_row
from quizzes.bank.services import ImportResult, questions_import
from quizzes.models import QuestionCategory, QuestionImport

if TYPE_CHECKING:
    from learning.models import Member

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = MAX_FILE_BYTES
# The preview keeps only the start of each text (the page shows no more): a long but
# allowed field is never stored twice nor rendered whole.
PREVIEW_STEM_CHARS = 120
PREVIEW_TEXT_CHARS = 60
# Files with at most this many questions are imported in the request; larger ones by
# a Celery task with a progress bar.
INLINE_IMPORT_MAX = 200
PROGRESS_TTL = 60 * 60
_ANSWER_COLUMN = COLUMNS.index(FIELD_ANSWER)


class UploadRefusedError(ValueError):
    """The upload cannot be read at all (too large, unknown format); the message says why."""


def progress_cache_key(import_id: Any) -> str:
    return f"quizzes:question-import:{import_id}:progress"


def _problem_dict(problem: ImportProblem) -> dict[str, Any]:
    return {
        "row": problem.row,
        "field": problem.field,
        "message": problem.message,
        "unit": problem.unit,
        "text": str(problem),
    }


def _preview_row(question: ParsedQuestion, base_path: list[str]) -> dict[str, Any]:
    # A question with problems is previewed too, however odd its content.
    try:
        answer = question_row(question)[_ANSWER_COLUMN]
    except (ValueError, KeyError, IndexError, TypeError):
        answer = ""
    try:
        label = type_label(question.type)
    except ValueError:
        label = question.type
    options = question.option_texts
    shown = [excerpt(text, PREVIEW_TEXT_CHARS) for text in options[:MAX_CHOICES]]
    if len(options) > MAX_CHOICES:
        shown.append("…")
    return {
        "row": question.source,
        "type": excerpt(str(label), PREVIEW_TEXT_CHARS),
        "stem": excerpt(question.stem, PREVIEW_STEM_CHARS),
        "options": shown,
        "answer": excerpt(answer, PREVIEW_TEXT_CHARS),
        "category": excerpt("/".join([*base_path, *question.category_path]), PREVIEW_STEM_CHARS),
    }


def _check(
    data: bytes,
    format_name: str,
    *,
    category: QuestionCategory | None,
    skip_duplicates: bool,
    by: Member | None,
) -> tuple[list[ParsedQuestion], ImportResult]:
    parsed = parse_questions(data, format_name)
    result = questions_import(
        parsed, category=category, skip_duplicates=skip_duplicates, dry_run=True, by=by
    )
    return parsed.questions, result


def question_import_prepare(
    *,
    data: bytes,
    filename: str,
    category: QuestionCategory | None = None,
    skip_duplicates: bool = False,
    by: Member | None = None,
) -> QuestionImport:
    """Read and check an uploaded question file; nothing is written to the bank.

    Raises ``UploadRefusedError`` for a file that is too large or in no known format.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefusedError(file_too_large_message(MAX_UPLOAD_BYTES))
    format_name = guess_format(filename, data)
    if format_name is None:
        raise UploadRefusedError(
            _(
                "The file's format is not recognised: upload an .xlsx, .csv, .gift, .aiken "
                "or .txt (GIFT or Aiken) file."
            )
        )
    questions, result = _check(
        data, format_name, category=category, skip_duplicates=skip_duplicates, by=by
    )
    base_path = category.path_names() if category is not None else []
    status = QuestionImport.Status.CHECKED if result.ok else QuestionImport.Status.INVALID
    return QuestionImport.objects.create(
        filename=filename[:255],
        format=format_name,
        data=data,
        category=category,
        skip_duplicates=skip_duplicates,
        status=status,
        question_count=len(result.questions),
        preview=[_preview_row(question, base_path) for question in questions],
        problems=[_problem_dict(problem) for problem in result.problems],
        result=_result_dict(result),
        created_by=by,
    )


def _result_dict(result: ImportResult) -> dict[str, Any]:
    return {
        "counts": {type_label(key): value for key, value in result.counts.items()},
        "created": len(result.created_ids),
        "skipped": [str(item) for item in result.skipped],
        "categories_created": list(result.categories_created),
    }


def question_import_confirm(*, question_import: QuestionImport) -> bool:
    """Claim a checked import for writing. False when it was already claimed (or is invalid).

    The status changes from "ready" to "waiting" in one conditional UPDATE, so of two
    requests confirming the same import only one gets True.
    """
    claimed = QuestionImport.objects.filter(
        pk=question_import.pk, status=QuestionImport.Status.CHECKED
    ).update(status=QuestionImport.Status.QUEUED, progress=0)
    if claimed:
        question_import.status = QuestionImport.Status.QUEUED
    return bool(claimed)


def _set_progress(import_id: Any, percent: int) -> None:
    cache.set(progress_cache_key(import_id), percent, PROGRESS_TTL)


def question_import_execute(*, import_id: Any) -> QuestionImport | None:
    """Write a confirmed import, all or nothing. Safe to run twice: only a waiting import runs.

    The bank may have changed since the preview (a duplicate added meanwhile): the
    import is checked again and fails, writing nothing, with the problems recorded.
    """
    started = QuestionImport.objects.filter(
        pk=import_id, status=QuestionImport.Status.QUEUED
    ).update(status=QuestionImport.Status.RUNNING, progress=5)
    if not started:
        return None
    job = QuestionImport.objects.select_related("created_by", "category").get(pk=import_id)
    _set_progress(job.pk, 5)

    def on_progress(written: int, total: int) -> None:
        # Inside the write transaction: the cache is what other processes can see.
        _set_progress(job.pk, 10 + int(85 * written / max(total, 1)))

    try:
        parsed = parse_questions(bytes(job.data), job.format)
        _set_progress(job.pk, 10)
        result = questions_import(
            parsed,
            category=job.category,
            skip_duplicates=job.skip_duplicates,
            by=job.created_by,
            on_progress=on_progress,
        )
    except Exception:
        logger.exception("question import %s failed", job.pk)
        job.status = QuestionImport.Status.FAILED
        job.problems = [
            _problem_dict(
                ImportProblem(0, "", _("The import failed unexpectedly; nothing was written."))
            )
        ]
    else:
        if result.ok:
            job.status = QuestionImport.Status.DONE
            logger.info("question import %s: %d questions", job.pk, len(result.created_ids))
        else:
            job.status = QuestionImport.Status.FAILED
            job.problems = [_problem_dict(problem) for problem in result.problems]
        job.result = _result_dict(result)
    job.progress = 100
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "problems", "result", "progress", "finished_at"])
    _set_progress(job.pk, 100)
    return job


def question_import_start(*, question_import: QuestionImport) -> bool:
    """Confirm an import and run it: now for a small file, in a Celery task for a large one.

    Returns False when the import had already been confirmed (nothing is started again).
    """
    from quizzes.tasks import question_import_run

    with transaction.atomic():
        if not question_import_confirm(question_import=question_import):
            return False
        if question_import.question_count > INLINE_IMPORT_MAX:
            import_id = str(question_import.pk)
            task_send_on_commit(question_import_run, args=[import_id])
            return True
    question_import_execute(import_id=question_import.pk)
    question_import.refresh_from_db()
    return True


def question_import_progress(question_import: QuestionImport) -> int:
    """The percentage done: the worker's last report, else what the row says."""
    if question_import.is_finished:
        return 100
    cached = cache.get(progress_cache_key(question_import.pk))
    if cached is not None:
        return int(cached)
    return int(question_import.progress)
