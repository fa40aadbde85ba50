"""Signals seen when an attempt is submitted; any of them holds its points for review.

Each is cheap: a sum over the attempt's own questions, or one indexed query.

- **Too fast**: less time from start to submit than its answered questions take to read
  and answer: each question's text at ``DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND``, never
  under ``DANGJIAN_PLAUSIBLE_FLOOR_SECONDS`` nor the quiz's own seconds per question.
- **Several attempts at once**: ``DANGJIAN_PARALLEL_ATTEMPTS`` of the member's attempts
  started within ``DANGJIAN_PARALLEL_WINDOW`` of each other.
- **Accuracy far above the member's record**: at least ``DANGJIAN_ACCURACY_JUMP_PERCENT``
  right on at least ``DANGJIAN_ACCURACY_JUMP_MIN_QUESTIONS`` questions, where the member's
  answers of the last 90 days on the same categories (at least
  ``DANGJIAN_ACCURACY_HISTORY_ANSWERS``) were right at most
  ``DANGJIAN_ACCURACY_USUAL_PERCENT`` of the time.
- **The same answers as another member**: the sequence of answers, in the order they were
  saved, equal to that of another member of the same organisation in the same quiz within
  a day, with at least ``DANGJIAN_SHARED_MIN_ANSWERS`` answers of which at least
  ``DANGJIAN_SHARED_MIN_WRONG`` are the same wrong ones (right answers alike prove
  nothing). Both attempts are flagged.

docs/integrity.md explains them, and ``tests/benchmarks`` measures how often honest
members meet them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from learning.integrity.services import flag_raise
from learning.integrity.subjects import subject_key
from learning.models import IntegrityFlag
from quizzes.models import Attempt, AttemptQuestion, Question
from quizzes.taking.pacing import question_characters

ATTEMPT_SUBJECT = "quizzes.attempt"
HISTORY_DAYS = 90
SHARED_WITHIN = datetime.timedelta(days=1)
SCORED_STATES = (
    AttemptQuestion.State.CORRECT,
    AttemptQuestion.State.PARTIAL,
    AttemptQuestion.State.WRONG,
)
_NOT_RIGHT = (AttemptQuestion.State.PARTIAL, AttemptQuestion.State.WRONG)

Kind = IntegrityFlag.Kind


@dataclass(frozen=True)
class Signal:
    kind: str
    evidence: dict[str, Any]
    # Another member's attempt that shows the same signal (shared answers).
    also: Attempt | None = field(default=None, compare=False)


def attempt_subject_key(attempt_id: int) -> str:
    return subject_key(ATTEMPT_SUBJECT, attempt_id)


def attempt_label(attempt: Attempt) -> str:
    return _("%(quiz)s, attempt %(number)d") % {
        "quiz": attempt.quiz.title,
        "number": attempt.number,
    }


def plausible_seconds(snapshot: dict[str, Any], quiz_seconds: int) -> float:
    """The least time a person takes to read and answer one question."""
    pace = max(1, settings.DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND)
    return max(
        settings.DANGJIAN_PLAUSIBLE_FLOOR_SECONDS,
        float(quiz_seconds),
        question_characters(snapshot) / pace,
    )


def answer_fingerprint(items: Sequence[AttemptQuestion]) -> str:
    """The answers in the order they were saved, hashed (empty with no answer)."""
    answered = sorted(
        (item for item in items if item.response),
        key=lambda item: (item.saved_at is None, item.saved_at, item.position),
    )
    if not answered:
        return ""
    sequence = [[item.question_id, _canonical(item.response)] for item in answered]
    text = json.dumps(sequence, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(response: Any) -> Any:
    if isinstance(response, dict) and isinstance(response.get("choices"), list):
        return {**response, "choices": sorted(map(str, response["choices"]))}
    if isinstance(response, dict) and isinstance(response.get("blanks"), list):
        return {**response, "blanks": [str(value).strip() for value in response["blanks"]]}
    return response


def attempt_signals(attempt: Attempt, items: Sequence[AttemptQuestion]) -> list[Signal]:
    """What looks implausible about a just-submitted ``attempt`` (``items``: its questions)."""
    answered = [item for item in items if item.response]
    signals = [
        signal
        for signal in (
            _too_fast(attempt, answered),
            _parallel(attempt),
            _accuracy_jump(attempt, answered),
            _shared_answers(attempt, answered),
        )
        if signal is not None
    ]
    return signals


def attempt_flags_raise(attempt: Attempt, signals: Sequence[Signal]) -> None:
    """Raise a flag for each signal (and on the other attempt of shared answers)."""
    for signal in signals:
        flag_raise(
            member=attempt.member,
            kind=signal.kind,
            subject_key=attempt_subject_key(attempt.pk),
            subject_label=attempt_label(attempt),
            evidence=signal.evidence,
            at=attempt.submitted_at,
        )
        if signal.also is not None:
            other = signal.also
            flag_raise(
                member=other.member,
                kind=signal.kind,
                subject_key=attempt_subject_key(other.pk),
                subject_label=attempt_label(other),
                evidence={**signal.evidence, "other": attempt.member.display_name},
                at=attempt.submitted_at,
            )


def _too_fast(attempt: Attempt, answered: Sequence[AttemptQuestion]) -> Signal | None:
    if not answered or attempt.submitted_at is None:
        return None
    elapsed = (attempt.submitted_at - attempt.started_at).total_seconds()
    quiz_seconds = attempt.quiz.min_seconds_per_question
    # In tenths of a second: the clock's own resolution is all a comparison can trust.
    plausible = round(sum(plausible_seconds(item.snapshot, quiz_seconds) for item in answered), 1)
    if elapsed >= plausible:
        return None
    return Signal(
        Kind.TOO_FAST,
        {
            "answered": len(answered),
            "seconds": int(elapsed),
            "plausible_seconds": math.ceil(plausible),
        },
    )


def _parallel(attempt: Attempt) -> Signal | None:
    """Attempts started within the window of this one and in progress with it at once (a
    challenge ended by a wrong answer and started again is one after the other)."""
    window = settings.DANGJIAN_PARALLEL_WINDOW
    together = (
        Attempt.objects.filter(
            member_id=attempt.member_id,
            started_at__gte=attempt.started_at - window,
            started_at__lte=attempt.started_at + window,
            started_at__lt=attempt.submitted_at,
        )
        .filter(Q(submitted_at__isnull=True) | Q(submitted_at__gt=attempt.started_at))
        .count()
    )
    if together < settings.DANGJIAN_PARALLEL_ATTEMPTS:
        return None
    return Signal(
        Kind.PARALLEL_ATTEMPTS,
        {"attempts": together, "within_seconds": int(window.total_seconds())},
    )


def _accuracy_jump(attempt: Attempt, answered: Sequence[AttemptQuestion]) -> Signal | None:
    scored = [item for item in answered if item.state in SCORED_STATES]
    if len(scored) < settings.DANGJIAN_ACCURACY_JUMP_MIN_QUESTIONS:
        return None
    right = sum(1 for item in scored if item.state == AttemptQuestion.State.CORRECT)
    accuracy = right * 100 / len(scored)
    if accuracy < settings.DANGJIAN_ACCURACY_JUMP_PERCENT:
        return None
    question_ids = [item.question_id for item in scored if item.question_id]
    since = attempt.started_at - datetime.timedelta(days=HISTORY_DAYS)
    history = (
        AttemptQuestion.objects.filter(
            attempt__member_id=attempt.member_id,
            attempt__state=Attempt.State.SUBMITTED,
            attempt__submitted_at__gte=since,
            attempt__submitted_at__lt=attempt.started_at,
            state__in=SCORED_STATES,
            question__category__in=Question.objects.filter(pk__in=question_ids).values("category"),
        )
        .exclude(attempt_id=attempt.pk)
        .aggregate(
            answers=Count("pk"),
            right=Count("pk", filter=Q(state=AttemptQuestion.State.CORRECT)),
            attempts=Count("attempt", distinct=True),
        )
    )
    answers = history["answers"] or 0
    if answers < settings.DANGJIAN_ACCURACY_HISTORY_ANSWERS:
        return None
    usual = (history["right"] or 0) * 100 / answers
    if usual > settings.DANGJIAN_ACCURACY_USUAL_PERCENT:
        return None
    return Signal(
        Kind.ACCURACY_JUMP,
        {
            "accuracy": round(accuracy),
            "usual_accuracy": round(usual),
            "attempts_before": history["attempts"] or 0,
            "answers_before": answers,
        },
    )


def _shared_answers(attempt: Attempt, answered: Sequence[AttemptQuestion]) -> Signal | None:
    wrong = sum(1 for item in answered if item.state in _NOT_RIGHT)
    if (
        not attempt.answer_fingerprint
        or len(answered) < settings.DANGJIAN_SHARED_MIN_ANSWERS
        or wrong < settings.DANGJIAN_SHARED_MIN_WRONG
        or attempt.organization_id is None
    ):
        return None
    other = (
        Attempt.objects.filter(
            quiz_id=attempt.quiz_id,
            answer_fingerprint=attempt.answer_fingerprint,
            organization_id=attempt.organization_id,
            state=Attempt.State.SUBMITTED,
            submitted_at__gte=attempt.submitted_at - SHARED_WITHIN,
        )
        .exclude(member_id=attempt.member_id)
        .select_related("member", "quiz")
        .order_by("-submitted_at")
        .first()
    )
    if other is None:
        return None
    apart = abs((attempt.submitted_at - other.submitted_at).total_seconds())
    return Signal(
        Kind.SHARED_ANSWERS,
        {
            "questions": len(answered),
            "wrong": wrong,
            "other": other.member.display_name,
            "seconds_apart": int(apart),
        },
        also=other,
    )
