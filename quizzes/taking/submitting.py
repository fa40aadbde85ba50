"""Submitting and scoring attempts, grading short answers, and the points they earn.

- ``attempt_submit`` scores the frozen copy, is harmless to call twice (the attempt row is
  locked and a submitted attempt is returned as it is), fills the wrong-answer book and
  awards points through ``points_award`` with a key derived from the attempt.
- ``attempts_submit_overdue`` (a Celery beat task every 30 s) submits attempts whose
  deadline has passed, with the answers they saved.
- ``attempt_question_grade`` gives a short answer its mark; the attempt is scored, and
  its points awarded, once nothing waits any more.
- An attempt with an integrity signal (``quizzes.taking.integrity``) is held: scored, its
  points awarded only when a reviewer dismisses its flags (``quizzes.taking.flag_subjects``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.models import IntegrityFlag, Member
from learning.points.ledger import points_award
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz, WrongAnswer
from quizzes.taking import scoring
from quizzes.taking.errors import AttemptError
from quizzes.taking.integrity import answer_fingerprint, attempt_flags_raise, attempt_signals

logger = logging.getLogger(__name__)

TWO_PLACES = Decimal("0.01")
# What an attempt's writers lock: the attempt's row only. With ``select_related("quiz")``
# a plain ``select_for_update()`` locks the quiz's row as well (PostgreSQL's FOR UPDATE
# covers every table of the join), so every member taking the same daily quiz waited for
# every other member's save, check and submit (docs/benchmarks.md#morning-spike).
ATTEMPT_ROW = ("self",)


def attempt_submit(
    *,
    attempt: Attempt,
    member: Member | None = None,
    finished_by: str = Attempt.FinishedBy.MEMBER,
    at: datetime.datetime | None = None,
) -> Attempt:
    """Score the attempt from its frozen questions and saved answers; harmless twice.

    ``member`` (when given) must own the attempt. A member's submit after the deadline
    is still accepted — the deadline refuses new answers, not the saved ones — but it is
    recorded as finished by the deadline.
    """
    now = at or timezone.now()
    if member is not None and attempt.member_id != member.pk:
        raise AttemptError(_("This is not your attempt."), "not_yours")
    with transaction.atomic():
        mine = Attempt.objects.select_for_update(of=ATTEMPT_ROW).select_related("quiz")
        if member is not None:
            # Whose it is, read under the lock (the API passes a bare reference).
            mine = mine.filter(member_id=member.pk)
        locked = mine.filter(pk=attempt.pk).first()
        if locked is None:
            if member is None:
                raise Attempt.DoesNotExist(f"no attempt {attempt.pk}")
            raise AttemptError(_("This is not your attempt."), "not_yours")
        if member is not None:
            locked.member = member  # the points and any flag name them: no second read
        if locked.state == Attempt.State.SUBMITTED:
            return locked
        if locked.deadline is not None and now > locked.deadline:
            finished_by = Attempt.FinishedBy.DEADLINE
        items = list(locked.questions.order_by("position"))
        for item in items:
            if item.mark is None:
                score_item(item, locked.multiple_rule)
        AttemptQuestion.objects.bulk_update(items, ["mark", "state"])
        locked.question_count = len(items)  # shown in the reply: no count query
        locked.state = Attempt.State.SUBMITTED
        locked.submitted_at = min(now, locked.deadline) if locked.deadline else now
        locked.finished_by = finished_by
        _total(locked, items)
        locked.answer_fingerprint = answer_fingerprint(items)
        signals = attempt_signals(locked, items)
        locked.too_fast = any(signal.kind == IntegrityFlag.Kind.TOO_FAST for signal in signals)
        if signals:
            locked.integrity = Attempt.Integrity.HELD
        locked.save()
        _book_wrong_answers(locked, items, now)
        attempt_flags_raise(locked, signals)
        if not locked.needs_grading and locked.integrity == Attempt.Integrity.CLEAR:
            attempt_points_award(locked)
    return locked


def score_item(item: AttemptQuestion, rule: str) -> None:
    result = scoring.score_response(item.snapshot, item.response, rule)
    if result.needs_grading:
        item.mark = None
        item.state = AttemptQuestion.State.NEEDS_GRADING
        return
    item.mark = (
        item.max_mark * Decimal(result.fraction.numerator) / result.fraction.denominator
    ).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    item.state = AttemptQuestion.State(str(result.state))


def _total(attempt: Attempt, items: Sequence[AttemptQuestion]) -> None:
    attempt.needs_grading = any(item.state == AttemptQuestion.State.NEEDS_GRADING for item in items)
    attempt.correct_count = sum(1 for item in items if item.state == AttemptQuestion.State.CORRECT)
    if attempt.quiz.kind == Quiz.Kind.CHALLENGE:
        # The streak: right answers in a row from the first question, up to the first
        # one that is not right (or not answered).
        streak = 0
        for item in sorted(items, key=lambda item: item.position):
            if item.state != AttemptQuestion.State.CORRECT:
                break
            streak += 1
        attempt.correct_count = streak
        attempt.max_score = sum(
            (item.max_mark for item in items if item.response is not None), Decimal(0)
        )
    attempt.score = sum((item.mark or Decimal(0) for item in items), Decimal(0))
    if attempt.needs_grading:
        attempt.passed = None
        return
    if attempt.pass_percent is not None and attempt.max_score:
        attempt.passed = attempt.score * 100 >= attempt.max_score * attempt.pass_percent
    else:
        attempt.passed = None


def _book_wrong_answers(
    attempt: Attempt, items: Iterable[AttemptQuestion], now: datetime.datetime
) -> None:
    """Every wrong or partly wrong answer goes into the member's wrong-answer book.

    In a few statements whatever the number of mistakes: one read of the entries the
    member already has for these questions, one insert, one update.
    """
    missed = {
        item.question_id
        for item in items
        if item.question_id is not None
        # A short answer cannot be practised with immediate feedback: it stays out.
        and item.snapshot.get("type") != Question.Type.SHORT_ANSWER
        and (
            item.state in (AttemptQuestion.State.WRONG, AttemptQuestion.State.PARTIAL)
            or (
                item.state == AttemptQuestion.State.UNANSWERED
                and attempt.quiz.kind != Quiz.Kind.CHALLENGE
            )
        )
    }
    if not missed:
        return
    existing = list(
        WrongAnswer.objects.select_for_update().filter(
            member_id=attempt.member_id, question_id__in=missed
        )
    )
    for entry in existing:
        entry.wrong_count += 1
        entry.correct_streak = 0
        entry.last_wrong_at = now
        entry.mastered_at = None
        entry.removed_at = None
    WrongAnswer.objects.bulk_update(
        existing,
        ["wrong_count", "correct_streak", "last_wrong_at", "mastered_at", "removed_at"],
    )
    known = {entry.question_id for entry in existing}
    WrongAnswer.objects.bulk_create(
        [
            WrongAnswer(member_id=attempt.member_id, question_id=pk, last_wrong_at=now)
            for pk in sorted(missed - known)
        ],
        # Another submit of the same member at the same moment may have added one.
        ignore_conflicts=True,
    )


# --- Points -----------------------------------------------------------------------------

_SCORE_RULES = {Quiz.Kind.WEEKLY: ("weekly_quiz", 5), Quiz.Kind.TOPIC: ("topic_quiz", 10)}


def attempt_points_award(attempt: Attempt) -> None:
    """Award the attempt's points once; the key makes a second call award nothing."""
    kind = attempt.quiz.kind
    member = attempt.member
    rule, quantity, key = "", 0, f"quiz-attempt:{attempt.pk}"
    if kind == Quiz.Kind.DAILY:
        rule, quantity = "daily_quiz_correct", attempt.correct_count
    elif kind == Quiz.Kind.CHALLENGE:
        rule, quantity = "challenge_quiz", attempt.correct_count
    elif kind in _SCORE_RULES and attempt.max_score:
        rule, most = _SCORE_RULES[kind]
        share = attempt.score * most / attempt.max_score
        quantity = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        # Once per quiz, not per attempt: retakes improve the grade, not the points.
        key = f"quiz:{attempt.quiz_id}:member:{attempt.member_id}"
    elif kind == Quiz.Kind.EXAM and attempt.passed:
        rule, quantity = "exam_passed", 1
        key = f"quiz:{attempt.quiz_id}:member:{attempt.member_id}"
    if not rule or quantity < 1:
        return
    result = points_award(
        member=member,
        rule_code=rule,
        key=key,
        source=attempt,
        quantity=quantity,
        occurred_at=attempt.submitted_at,
    )
    if result.created:
        Attempt.objects.filter(pk=attempt.pk).update(points=result.points)
        attempt.points = result.points


# --- Deadlines --------------------------------------------------------------------------


def attempts_submit_overdue(*, at: datetime.datetime | None = None, limit: int = 500) -> int:
    """Submit attempts whose deadline has passed, with their saved answers."""
    now = at or timezone.now()
    due = list(
        Attempt.objects.filter(state=Attempt.State.IN_PROGRESS, deadline__lte=now)
        .order_by("deadline")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        try:
            attempt_submit(attempt=Attempt(pk=pk), finished_by=Attempt.FinishedBy.DEADLINE, at=now)
        except Exception:
            logger.exception("could not submit overdue attempt %s", pk)
    if due:
        logger.info("submitted %d overdue attempts", len(due))
    return len(due)


# --- Grading short answers --------------------------------------------------------------


def attempt_question_grade(
    *, item: AttemptQuestion, fraction: Decimal, grader: Member, comment: str = ""
) -> Attempt:
    """Give a short answer its mark; the attempt is scored once nothing waits any more."""
    if not Decimal(0) <= fraction <= Decimal(1):
        raise AttemptError(_("The mark must be between 0 and 100 %."), "bad_mark")
    now = timezone.now()
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update(of=ATTEMPT_ROW)
            .select_related("quiz")
            .get(pk=item.attempt_id)
        )
        locked = AttemptQuestion.objects.select_for_update().get(pk=item.pk)
        if locked.state != AttemptQuestion.State.NEEDS_GRADING:
            raise AttemptError(_("This answer has already been graded."), "graded")
        locked.mark = (locked.max_mark * fraction).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
        locked.state = AttemptQuestion.State.GRADED
        locked.graded_by = grader
        locked.graded_at = now
        locked.grader_comment = comment
        locked.save(update_fields=["mark", "state", "graded_by", "graded_at", "grader_comment"])
        items = list(attempt.questions.order_by("position"))
        _total(attempt, items)
        attempt.save(
            update_fields=["needs_grading", "correct_count", "score", "passed", "max_score"]
        )
        if not attempt.needs_grading and attempt.integrity == Attempt.Integrity.CLEAR:
            attempt_points_award(attempt)
    return attempt
