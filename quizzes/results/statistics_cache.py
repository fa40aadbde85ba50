"""Quiz statistics in the cache: computed by a Celery task, read by the statistics page.

The figures come from ``quizzes.results.statistics`` (the pure maths) over a matrix of
marks (attempt × question, ``statistics_input``) and are kept in the Django cache under a
key made of the quiz and a stamp of its attempts (``statistics_stamp``), so a new
submission or a graded answer makes a fresh key and stale figures are never shown as
current.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.db.models.fields.json import KT
from django.utils import timezone

from learning.common.enqueue import task_send_on_commit
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz
from quizzes.results.statistics import AttemptMarks, quiz_statistics

logger = logging.getLogger(__name__)

# Statistics stay in the cache this long; a changed stamp makes them unused sooner.
STATISTICS_TTL = 7 * 24 * 3600
# While a recompute is queued, page loads do not queue another one for the same stamp.
STATISTICS_PENDING_TTL = 10 * 60


def _statistics_key(quiz_id: int, stamp: str) -> str:
    return f"quizzes:statistics:{quiz_id}:{stamp}"


def _statistics_latest_key(quiz_id: int) -> str:
    return f"quizzes:statistics:{quiz_id}:latest"


def _statistics_pending_key(quiz_id: int, stamp: str) -> str:
    return f"quizzes:statistics:{quiz_id}:{stamp}:pending"


def statistics_stamp(quiz: Quiz) -> str:
    """A short fingerprint of what the statistics read: it changes when an attempt is
    submitted or an answer is graded (grading changes marks without a new submission)."""
    submitted = Attempt.objects.filter(quiz=quiz, state=Attempt.State.SUBMITTED).aggregate(
        count=Count("pk"), last=Max("submitted_at")
    )
    graded = AttemptQuestion.objects.filter(
        attempt__quiz=quiz, state=AttemptQuestion.State.GRADED
    ).aggregate(count=Count("pk"), last=Max("graded_at"))
    parts = [
        submitted["count"],
        submitted["last"].isoformat() if submitted["last"] else "",
        graded["count"],
        graded["last"].isoformat() if graded["last"] else "",
    ]
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16]


LETTERS = "ABCDEFGHIJ"


def _float(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def statistics_input(
    quiz: Quiz,
) -> tuple[list[AttemptMarks], dict[tuple[int, int], Decimal], dict[tuple[int, int], Any]]:
    """The marks of ``quiz``'s scored attempts for ``quizzes.results.statistics``.

    Returns the attempts (marks and chosen options per question), each question's full
    mark, and one frozen snapshot per question for the labels. A question is keyed by
    ``(question id, version)`` from its snapshot, so answers to an edited wording are kept
    apart and a question drawn by a rule is one column whatever its position; an attempt
    that did not get a question leaves its cell empty. Attempts still waiting for a
    short answer's mark are left out: their totals are not known yet.

    Three queries whatever the size: the marks (without the snapshots, which are large),
    then one snapshot per question.
    """
    rows = (
        AttemptQuestion.objects.filter(
            attempt__quiz=quiz,
            attempt__state=Attempt.State.SUBMITTED,
            attempt__needs_grading=False,
        )
        .annotate(
            snapshot_id=KT("snapshot__id"),
            snapshot_version=KT("snapshot__version"),
            snapshot_type=KT("snapshot__type"),
        )
        .values_list(
            "pk",
            "attempt_id",
            "position",
            "snapshot_id",
            "snapshot_version",
            "snapshot_type",
            "max_mark",
            "mark",
            "response",
        )
        .order_by("attempt_id", "position")
    )
    marks: dict[int, dict[tuple[int, int], Decimal]] = {}
    choices: dict[int, dict[tuple[int, int], list[int]]] = {}
    max_marks: dict[tuple[int, int], Decimal] = {}
    first_item: dict[tuple[int, int], int] = {}
    first_position: dict[tuple[int, int], int] = {}
    for pk, attempt_id, position, qid, version, kind, max_mark, mark, response in rows:
        key = (int(qid), int(version))
        if key not in max_marks:
            max_marks[key] = max_mark
            first_item[key] = pk
        first_position[key] = min(first_position.get(key, position), position)
        value = mark or Decimal(0)
        if max_mark != max_marks[key] and max_mark:
            # The quiz's mark for this question changed between attempts: compare shares.
            value = value * max_marks[key] / max_mark
        marks.setdefault(attempt_id, {})[key] = value
        if kind in (Question.Type.SINGLE, Question.Type.MULTIPLE) and isinstance(response, dict):
            chosen = response.get("choices") or []
            choices.setdefault(attempt_id, {})[key] = [c for c in chosen if isinstance(c, int)]
    order = sorted(max_marks, key=lambda key: (first_position[key], key))
    snapshots = {
        item.pk: item.snapshot
        for item in AttemptQuestion.objects.filter(pk__in=first_item.values()).only("snapshot")
    }
    attempts = [
        AttemptMarks(marks=marks[attempt_id], choices=choices.get(attempt_id, {}))
        for attempt_id in marks
    ]
    return (
        attempts,
        {key: max_marks[key] for key in order},
        {key: snapshots[first_item[key]] for key in order},
    )


def _statistics_data(quiz: Quiz) -> dict[str, Any]:
    """Compute the statistics and shape them as plain data for the cache and the page."""
    attempts, max_marks, snapshots = statistics_input(quiz)
    options = {
        key: [choice["id"] for choice in snapshot.get("choices", [])]
        for key, snapshot in snapshots.items()
        if snapshot.get("choices")
    }
    result = quiz_statistics(attempts, max_marks, options=options)
    full_marks = float(sum(max_marks.values(), Decimal(0)))
    questions = []
    for number, item in enumerate(result.questions, start=1):
        snapshot = snapshots[item.question]
        texts = {
            choice["id"]: (index, choice)
            for index, choice in enumerate(snapshot.get("choices", []))
        }
        frequencies = []
        for frequency in item.options:
            index, choice = texts.get(frequency.option, (None, None))
            frequencies.append(
                {
                    "letter": LETTERS[index] if index is not None and index < 10 else "?",
                    "text": choice["text"] if choice else str(frequency.option),
                    "is_correct": bool(choice and choice.get("is_correct")),
                    "count": frequency.count,
                    "percent": _float(frequency.share * 100, 1),
                }
            )
        questions.append(
            {
                "number": number,
                "question_id": item.question[0],
                "version": item.question[1],
                "stem": snapshot.get("stem", ""),
                "type": snapshot.get("type", ""),
                "attempts": item.attempts,
                "max_mark": _float(item.max_mark),
                "facility": _float(item.facility_index),
                "sd": _float(item.standard_deviation),
                "discrimination": _float(item.discrimination_index),
                "efficiency": _float(item.discriminative_efficiency),
                "options": frequencies,
            }
        )
    return {
        "attempts": result.attempts,
        "full_marks": _float(full_marks) if result.attempts else None,
        "mean": _float(result.mean),
        "median": _float(result.median),
        "sd": _float(result.standard_deviation),
        "skewness": _float(result.skewness, 3),
        "kurtosis": _float(result.kurtosis, 3),
        "cic": _float(result.internal_consistency),
        "error_ratio": _float(result.error_ratio),
        "standard_error": _float(result.standard_error),
        "drawn": any(item["attempts"] != result.attempts for item in questions),
        "questions": questions,
    }


@dataclass(frozen=True)
class StatisticsState:
    """What the statistics page shows: ``data`` (or None), whether it is current, and
    whether a recompute is on its way."""

    data: dict[str, Any] | None
    fresh: bool
    pending: bool


def quiz_statistics_for(*, quiz: Quiz) -> StatisticsState:
    """The cached statistics of ``quiz``; queues a recompute when they are missing or stale.

    Stale figures (from before the latest submission) are still returned, marked as not
    fresh, so the page has something to show while the task runs.
    """
    stamp = statistics_stamp(quiz)
    data = cache.get(_statistics_key(quiz.pk, stamp))
    if data is not None:
        return StatisticsState(data=data, fresh=True, pending=False)
    _enqueue(quiz.pk, stamp, force=False)
    data = cache.get(_statistics_key(quiz.pk, stamp))
    if data is not None:
        # An eager task (tests, development) has already run.
        return StatisticsState(data=data, fresh=True, pending=False)
    return StatisticsState(
        data=cache.get(_statistics_latest_key(quiz.pk)), fresh=False, pending=True
    )


def quiz_statistics_request(*, quiz: Quiz, force: bool = False) -> None:
    """Queue a recompute of ``quiz``'s statistics (``force``: even if they are current)."""
    stamp = statistics_stamp(quiz)
    if force:
        cache.delete(_statistics_key(quiz.pk, stamp))
    _enqueue(quiz.pk, stamp, force=force)


def _enqueue(quiz_id: int, stamp: str, *, force: bool) -> None:
    # cache.add is atomic: of several page loads only the first queues the task.
    pending_key = _statistics_pending_key(quiz_id, stamp)
    if force:
        cache.set(pending_key, True, STATISTICS_PENDING_TTL)
    elif not cache.add(pending_key, True, STATISTICS_PENDING_TTL):
        return
    from quizzes.tasks import quiz_statistics_recompute

    task_send_on_commit(quiz_statistics_recompute, args=[quiz_id])


def quiz_statistics_compute(*, quiz_id: int) -> dict[str, Any] | None:
    """Compute ``quiz``'s statistics now and cache them under the current stamp.

    Safe to run twice: the second run stores the same figures again.
    """
    quiz = Quiz.objects.filter(pk=quiz_id).first()
    if quiz is None:
        return None
    # The stamp is read first: an attempt submitted while we compute makes a newer
    # stamp, so these figures can never pass as including it.
    stamp = statistics_stamp(quiz)
    data = _statistics_data(quiz)
    data["stamp"] = stamp
    data["computed_at"] = timezone.now()
    cache.set(_statistics_key(quiz.pk, stamp), data, STATISTICS_TTL)
    cache.set(_statistics_latest_key(quiz.pk), data, STATISTICS_TTL)
    cache.delete(_statistics_pending_key(quiz.pk, stamp))
    logger.info("statistics of quiz %s computed over %d attempts", quiz.pk, data["attempts"])
    return data
