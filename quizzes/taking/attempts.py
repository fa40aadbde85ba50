"""Starting, answering and submitting quiz attempts (services), and who may take what.

The rules this module keeps (docs/design.md, decision 5):

- ``attempt_start`` draws the questions and freezes them: a JSON copy of each question,
  its option order and its mark. Nothing later reads the live bank for this attempt.
- ``attempt_answer_save`` stores one answer at a time. Each save carries a sequence number
  chosen by the client; a save whose number is not above the stored one is stale and
  changes nothing, so a slow request can never overwrite a newer answer. The deadline is
  the server's: a save after it is refused.
- ``attempt_answer_check`` grades and stores the answer it carries, with a sequence number
  at least the one the page sends, so the page's own slower saves are stale after it (not
  refused): a fast member never loses a race between a save and the check.
- ``attempt_submit`` scores the frozen copy, is harmless to call twice (the attempt row is
  locked and a submitted attempt is returned as it is), fills the wrong-answer book and
  awards points through ``points_award`` with a key derived from the attempt.
- ``attempts_submit_overdue`` (a Celery beat task every 30 s) submits attempts whose
  deadline has passed, with the answers they saved.
"""

from __future__ import annotations

import datetime
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.models import Member, Organization
from learning.points.ledger import points_award
from quizzes.bank.selectors import draw_rule_filter, question_snapshot
from quizzes.models import (
    Attempt,
    AttemptQuestion,
    DailyQuizSettings,
    Question,
    Quiz,
    QuizDrawRule,
    WrongAnswer,
)
from quizzes.taking import scoring
from quizzes.taking.locks import ExamLocks, exam_locks

logger = logging.getLogger(__name__)

# A question leaves the wrong-answer book after this many correct answers in a row.
MASTERED_AFTER = 2
# How many questions a challenge draws up front; it ends earlier at the first wrong answer.
CHALLENGE_LENGTH = 30
# How many times a start reads again after losing a race to create the attempt.
START_ROUNDS = 5
TWO_PLACES = Decimal("0.01")
# Sequence numbers are stored in a 32-bit column.
MAX_SEQ = 2**31 - 1


class AttemptError(Exception):
    """A request the member can fix or must accept; ``message`` is for them."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- Who may take what ------------------------------------------------------------------


def audience_filter(member: Member) -> Q:
    """Quizzes whose audience includes ``member``: no audience, or one above their branch."""
    organization = member.organization
    if organization is None:
        return Q(organizations__isnull=True)
    ancestors = [
        organization.path[:end]
        for end in range(Organization.steplen, len(organization.path) + 1, Organization.steplen)
    ]
    return Q(organizations__isnull=True) | Q(organizations__path__in=ancestors)


# The kinds listed as "quizzes and exams" (web and API); the daily quiz and the challenge
# have cards of their own.
LISTED_KINDS = (Quiz.Kind.WEEKLY, Quiz.Kind.TOPIC, Quiz.Kind.EXAM, Quiz.Kind.LESSON)


def attempts_left(quiz: Quiz, used: int) -> int | None:
    """How many more attempts a member who has used ``used`` may start; None: no limit."""
    if not quiz.attempts_allowed:
        return None
    return max(0, quiz.attempts_allowed - used)


def quizzes_open_at(at: datetime.datetime) -> QuerySet[Quiz]:
    """Published quizzes whose window (opens, closes) holds ``at``, for anyone."""
    return (
        Quiz.objects.filter(is_published=True)
        .filter(Q(opens_at__isnull=True) | Q(opens_at__lte=at))
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=at))
    )


def quizzes_open_to(member: Member, *, at: datetime.datetime | None = None) -> QuerySet[Quiz]:
    """Published quizzes that are open now and meant for ``member`` (daily quizzes too)."""
    return quizzes_open_at(at or timezone.now()).filter(audience_filter(member)).distinct()


def quiz_records_of(member_id: int, quizzes: Iterable[Quiz]) -> dict[int, dict[str, Any]]:
    """The member's attempts at each quiz: used, best score, in progress, latest, held
    for the secretary; one query."""
    return {
        row["quiz_id"]: row
        for row in Attempt.objects.filter(member_id=member_id, quiz__in=[q.pk for q in quizzes])
        .values("quiz_id")
        .annotate(
            used=Count("pk"),
            best=Max("score"),
            # At most one attempt per quiz is in progress (a database constraint).
            in_progress=Max("pk", filter=Q(state=Attempt.State.IN_PROGRESS)),
            latest=Max("pk"),
            held=Count("pk", filter=Q(state=Attempt.State.SUBMITTED, too_fast=True)),
        )
        .order_by()
    }


def quiz_is_for(quiz: Quiz, member: Member) -> bool:
    return Quiz.objects.filter(pk=quiz.pk).filter(audience_filter(member)).exists()


# --- Starting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    question: Question
    mark: Decimal


def attempt_start(
    *,
    quiz: Quiz,
    member: Member,
    at: datetime.datetime | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """The member's attempt in progress at ``quiz``, or a new one with frozen questions.

    Resuming returns the same attempt (another phone, a reload); an attempt whose
    deadline has passed is submitted first. Refused with ``AttemptError`` when the quiz is
    not open to the member or no attempts are left.
    """
    now = at or timezone.now()
    if not quiz.is_open(now) or not quiz_is_for(quiz, member):
        raise AttemptError(_("This quiz is not open to you."), "closed")
    slots: list[_Slot] | None = None
    # Concurrent starts (a double tap, two phones) race each other. Each round reads the
    # attempt in progress and the attempts used in ONE statement, so they are consistent
    # with each other; a start that loses the race to create the attempt reads again and
    # resumes the winner's attempt instead of refusing.
    for _round in range(START_ROUNDS):
        record = Attempt.objects.filter(quiz=quiz, member=member).aggregate(
            used=Max("number"), open=Max("pk", filter=Q(state=Attempt.State.IN_PROGRESS))
        )
        if record["open"] is not None:
            current = Attempt.objects.select_related("quiz").get(pk=record["open"])
            if current.deadline is None or current.deadline > now:
                return current
            attempt_submit(attempt=current, finished_by=Attempt.FinishedBy.DEADLINE, at=now)
            continue
        used = record["used"] or 0
        if attempts_left(quiz, used) == 0:
            raise AttemptError(
                _("You have used all your attempts at this quiz."), "no_attempts_left"
            )
        if slots is None:
            slots = _draw(quiz, member, now, rng or random.SystemRandom())
        if not slots:
            raise AttemptError(_("This quiz has no questions yet."), "no_questions")
        try:
            with transaction.atomic():
                return _create_attempt(quiz, member, used + 1, slots, now, rng)
        except IntegrityError:
            # Another request created this attempt a moment earlier: read again.
            continue
    raise AttemptError(_("The quiz could not be started. Please try again."), "busy")


def _create_attempt(
    quiz: Quiz,
    member: Member,
    number: int,
    slots: list[_Slot],
    now: datetime.datetime,
    rng: random.Random | None,
) -> Attempt:
    shuffle = rng or random.SystemRandom()
    deadline = None
    if quiz.time_limit_minutes:
        deadline = now + datetime.timedelta(minutes=quiz.time_limit_minutes)
    if quiz.closes_at and (deadline is None or quiz.closes_at < deadline):
        deadline = quiz.closes_at
    attempt = Attempt.objects.create(
        quiz=quiz,
        member=member,
        organization_id=member.organization_id,
        number=number,
        started_at=now,
        deadline=deadline,
        multiple_rule=quiz.multiple_rule,
        review=quiz.review,
        pass_percent=quiz.pass_percent,
        max_score=sum((slot.mark for slot in slots), Decimal(0)),
    )
    rows = []
    for position, slot in enumerate(slots, start=1):
        snapshot = question_snapshot(slot.question)
        order = [choice["id"] for choice in snapshot["choices"]]
        if quiz.shuffle_options and slot.question.type in (
            Question.Type.SINGLE,
            Question.Type.MULTIPLE,
        ):
            shuffle.shuffle(order)
        rows.append(
            AttemptQuestion(
                attempt=attempt,
                position=position,
                question=slot.question,
                snapshot=snapshot,
                choice_order=order,
                max_mark=slot.mark,
            )
        )
    AttemptQuestion.objects.bulk_create(rows)
    return attempt


def _draw(quiz: Quiz, member: Member, now: datetime.datetime, rng: random.Random) -> list[_Slot]:
    """The attempt's questions: the fixed ones, then each rule's draw, without repeats."""
    fixed = list(
        quiz.fixed_questions.select_related("question")
        .filter(question__status=Question.Status.ACTIVE)
        .order_by("sort_order", "pk")
    )
    # Only an exam may ask what an exam holds back (quizzes.taking.locks): any other quiz leaves
    # those questions out, fixed ones included.
    locks = None if quiz.kind == Quiz.Kind.EXAM else exam_locks(at=now)
    if locks is not None and locks.active:
        held = locks.locked_ids(item.question_id for item in fixed)
        fixed = [item for item in fixed if item.question_id not in held]
    chosen: dict[int, Decimal] = {item.question_id: item.mark for item in fixed}
    avoid: set[int] = set()
    if quiz.kind == Quiz.Kind.DAILY:
        avoid = recently_seen_questions(member, DailyQuizSettings.current().avoid_days, now)
    for rule in quiz.draw_rules.select_related("category", "tag").order_by("sort_order", "pk"):
        candidates = [
            pk
            for pk in draw_candidates(
                rule, auto_scored_only=quiz.review == Quiz.Review.AFTER_EACH, locks=locks
            )
            if pk not in chosen
        ]
        fresh = [pk for pk in candidates if pk not in avoid]
        stale = [pk for pk in candidates if pk in avoid]
        picked = rng.sample(fresh, min(rule.count, len(fresh)))
        if len(picked) < rule.count:
            # Not enough unseen questions: repeat the ones seen longest ago rather than
            # ask fewer (the pool is the editor's to grow).
            picked += rng.sample(stale, min(rule.count - len(picked), len(stale)))
        for pk in picked:
            chosen[pk] = rule.mark
    ids = list(chosen)
    if quiz.shuffle_questions or quiz.kind == Quiz.Kind.DAILY:
        rng.shuffle(ids)
    questions = Question.objects.prefetch_related("choices", "blanks").in_bulk(ids)
    return [_Slot(questions[pk], chosen[pk]) for pk in ids if pk in questions]


def draw_candidates(
    rule: QuizDrawRule, *, auto_scored_only: bool = False, locks: ExamLocks | None = None
) -> list[int]:
    """Ids of the active questions a drawing rule may pick, in id order.

    ``auto_scored_only`` leaves out short answers, which a person must grade: a quiz that
    tells the member at once whether they were right cannot ask them. ``locks`` leaves out
    the questions exams hold back (for any quiz that is not an exam).
    """
    questions = Question.objects.filter(status=Question.Status.ACTIVE).filter(
        draw_rule_filter(rule)
    )
    if auto_scored_only:
        questions = questions.exclude(type=Question.Type.SHORT_ANSWER)
    if locks is not None:
        questions = locks.exclude_locked(questions)
    return list(questions.order_by("pk").values_list("pk", flat=True))


def recently_seen_questions(member: Member, days: int, now: datetime.datetime) -> set[int]:
    """Questions the member was asked in daily quizzes during the last ``days`` days."""
    if days <= 0:
        return set()
    since = now - datetime.timedelta(days=days)
    return set(
        AttemptQuestion.objects.filter(
            attempt__member=member,
            attempt__quiz__kind=Quiz.Kind.DAILY,
            attempt__started_at__gte=since,
            question__isnull=False,
        ).values_list("question_id", flat=True)
    )


# --- Answering --------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    """What a save did: ``stale`` when a newer answer was already stored."""

    item: AttemptQuestion
    stale: bool

    @property
    def checked(self) -> bool:
        """The question is answered for good (checked): a stale save is not to be resent."""
        return self.item.mark is not None


def attempt_answer_save(
    *,
    attempt: Attempt,
    member: Member,
    position: int,
    response: Any,
    seq: int,
    at: datetime.datetime | None = None,
) -> SaveResult:
    """Store the member's answer to one question of their attempt in progress."""
    now = at or timezone.now()
    _check_seq(seq)
    with transaction.atomic():
        locked, item = _open_question(attempt, member, position, now, stale_seq=seq)
        if _answered_for_good(locked, item):
            # Checked already, with a higher number: a save the page sent before the
            # check that arrived after it. Stale, like any older save, and changes nothing.
            return SaveResult(item=item, stale=True)
        if locked.quiz.kind == Quiz.Kind.CHALLENGE:
            # A challenge is answered one question at a time through the check, which
            # keeps the order and ends it at the first wrong answer; a saved answer would
            # be scored at submit without either.
            raise AttemptError(_("Confirm each answer of a challenge in turn."), "use_check")
        if response not in (None, {}):
            problem = scoring.response_problem(item.snapshot, response)
            if problem is not None:
                raise AttemptError(str(problem), "invalid")
        changed = AttemptQuestion.objects.filter(pk=item.pk, response_seq__lt=seq).update(
            response=response or None, response_seq=seq, saved_at=now
        )
        item.refresh_from_db()
    return SaveResult(item=item, stale=not changed)


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer, for quizzes that show it after each question."""

    item: AttemptQuestion
    correct: bool
    attempt: Attempt


def attempt_answer_check(
    *,
    attempt: Attempt,
    member: Member,
    position: int,
    response: Any,
    seq: int | None = None,
    at: datetime.datetime | None = None,
) -> Feedback:
    """Answer one question for good and learn at once whether it was right.

    Only in quizzes that show answers after each question (the daily quiz, challenges).
    The answer is then locked. In a challenge, a wrong answer ends the attempt.

    The check grades and stores the ``response`` it carries, whatever was saved before.
    ``seq`` is the page's next sequence number for the question (as a save would carry):
    the stored number becomes at least that, so a save the page sent earlier that arrives
    after the check is stale. Without it the stored number goes up by one.
    """
    now = at or timezone.now()
    if seq is not None:
        _check_seq(seq)
    with transaction.atomic():
        locked, item = _open_question(attempt, member, position, now)
        if locked.review != Quiz.Review.AFTER_EACH:
            raise AttemptError(_("This quiz shows answers only at the end."), "no_feedback")
        if item.snapshot.get("type") == Question.Type.SHORT_ANSWER:
            # Graded by a person: checking it would only reveal the reference answer.
            # It is saved like any answer and graded after submitting.
            raise AttemptError(
                _("This answer is graded by a person after you submit; it is saved as you type."),
                "no_feedback",
            )
        if locked.quiz.kind == Quiz.Kind.CHALLENGE and _challenge_next(locked) != position:
            raise AttemptError(_("Answer the questions in order."), "out_of_order")
        if response in (None, {}) or not scoring.response_is_valid(item.snapshot, response):
            raise AttemptError(_("Choose or write an answer first."), "invalid")
        item.response = response
        item.response_seq = min(MAX_SEQ, max(item.response_seq + 1, seq or 0))
        item.saved_at = now
        _score_item(item, locked.multiple_rule)
        item.save(update_fields=["response", "response_seq", "saved_at", "mark", "state"])
        correct = item.state == AttemptQuestion.State.CORRECT
    if locked.quiz.kind == Quiz.Kind.CHALLENGE and not correct:
        locked = attempt_submit(attempt=locked, finished_by=Attempt.FinishedBy.CHALLENGE, at=now)
    elif locked.quiz.kind == Quiz.Kind.CHALLENGE and _challenge_next(locked) is None:
        locked = attempt_submit(attempt=locked, at=now)
    return Feedback(item=item, correct=correct, attempt=locked)


def _answered_for_good(attempt: Attempt, item: AttemptQuestion) -> bool:
    """Whether ``item`` was checked (a quiz that shows the answer after each question)."""
    return attempt.review == Quiz.Review.AFTER_EACH and item.mark is not None


def _check_seq(seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise AttemptError(_("The answer could not be saved: bad sequence number."), "bad_seq")


def _open_question(
    attempt: Attempt,
    member: Member,
    position: int,
    now: datetime.datetime,
    *,
    stale_seq: int | None = None,
) -> tuple[Attempt, AttemptQuestion]:
    """The member's attempt, locked and still open, and its question at ``position``.

    Inside the caller's transaction. Refused when the attempt is someone else's, is
    submitted or past its deadline, has no such question, or (in a quiz that shows the
    answer after each question) the question was already answered for good — unless
    ``stale_seq`` is not above the stored number: such a save is answered as stale.
    """
    if attempt.member_id != member.pk:
        raise AttemptError(_("This is not your attempt."), "not_yours")
    locked = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
    _check_in_progress(locked, now)
    item = AttemptQuestion.objects.filter(attempt=locked, position=position).first()
    if item is None:
        raise AttemptError(_("There is no such question in this attempt."), "no_question")
    if _answered_for_good(locked, item) and (stale_seq is None or stale_seq > item.response_seq):
        raise AttemptError(_("This question has already been answered."), "locked")
    return locked, item


def _challenge_next(attempt: Attempt) -> int | None:
    """The position of the first question a challenge has not answered yet."""
    return (
        AttemptQuestion.objects.filter(attempt=attempt, mark__isnull=True)
        .order_by("position")
        .values_list("position", flat=True)
        .first()
    )


def _check_in_progress(attempt: Attempt, now: datetime.datetime) -> None:
    if attempt.state != Attempt.State.IN_PROGRESS:
        raise AttemptError(_("This attempt has already been submitted."), "submitted")
    if attempt.deadline is not None and now >= attempt.deadline:
        raise AttemptError(
            _("Time is up: answers can no longer be changed. Your saved answers are submitted."),
            "time_up",
        )


# --- Submitting and scoring -------------------------------------------------------------


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
        locked = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
        if locked.state == Attempt.State.SUBMITTED:
            return locked
        if locked.deadline is not None and now > locked.deadline:
            finished_by = Attempt.FinishedBy.DEADLINE
        items = list(locked.questions.order_by("position"))
        for item in items:
            if item.mark is None:
                _score_item(item, locked.multiple_rule)
        AttemptQuestion.objects.bulk_update(items, ["mark", "state"])
        locked.state = Attempt.State.SUBMITTED
        locked.submitted_at = min(now, locked.deadline) if locked.deadline else now
        locked.finished_by = finished_by
        _total(locked, items)
        answered = sum(1 for item in items if item.response)
        elapsed = (locked.submitted_at - locked.started_at).total_seconds()
        locked.too_fast = bool(
            answered and elapsed < answered * locked.quiz.min_seconds_per_question
        )
        locked.save()
        _book_wrong_answers(locked, items, now)
        if not locked.needs_grading and not locked.too_fast:
            _award(locked)
    return locked


def _score_item(item: AttemptQuestion, rule: str) -> None:
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


def _award(attempt: Attempt) -> None:
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
        attempt = Attempt.objects.select_for_update().select_related("quiz").get(pk=item.attempt_id)
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
        if not attempt.needs_grading and not attempt.too_fast:
            _award(attempt)
    return attempt


def attempt_accept_fast(*, attempt: Attempt, by: Member) -> Attempt:
    """A secretary accepts a flagged fast attempt as genuine: its points are awarded."""
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
        if not locked.too_fast:
            return locked
        locked.too_fast = False
        locked.save(update_fields=["too_fast"])
        if locked.is_submitted and not locked.needs_grading:
            _award(locked)
    logger.info("attempt %s accepted as plausible by %s", attempt.pk, by)
    return locked


# --- Daily quiz -------------------------------------------------------------------------


def daily_quiz_of(day: datetime.date | None = None) -> Quiz | None:
    """The daily quiz of a local day (today by default), if it has been made. Reads only."""
    return Quiz.objects.filter(kind=Quiz.Kind.DAILY, local_date=day or timezone.localdate()).first()


def daily_quiz_make(*, day: datetime.date | None = None) -> Quiz:
    """The daily quiz of a local day, made from the daily quiz settings if not made yet.

    Called by the beat task just after midnight and when a member starts the day's quiz
    (a POST); pages and the API only read it (``daily_quiz_of``): a GET never writes.
    """
    day = day or timezone.localdate()
    found = daily_quiz_of(day)
    if found is not None:
        return found
    config = DailyQuizSettings.current()
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    try:
        with transaction.atomic():
            quiz = Quiz.objects.create(
                title=_("Daily quiz %(day)s") % {"day": day.isoformat()},
                kind=Quiz.Kind.DAILY,
                is_published=True,
                local_date=day,
                opens_at=start,
                closes_at=start + datetime.timedelta(days=1),
                time_limit_minutes=config.time_limit_minutes,
                attempts_allowed=1,
                review=Quiz.Review.AFTER_EACH,
                shuffle_options=True,
            )
            QuizDrawRule.objects.create(
                quiz=quiz, category=config.category, count=config.question_count
            )
    except IntegrityError:
        return Quiz.objects.get(kind=Quiz.Kind.DAILY, local_date=day)
    return quiz


def challenge_quiz() -> Quiz:
    """The challenge editors set up, or a default one over the whole bank."""
    found = (
        Quiz.objects.filter(kind=Quiz.Kind.CHALLENGE, is_published=True)
        .order_by("-created_at")
        .first()
    )
    if found is not None:
        return found
    with transaction.atomic():
        quiz = Quiz.objects.create(
            title=_("Challenge"),
            kind=Quiz.Kind.CHALLENGE,
            is_published=True,
            attempts_allowed=0,
            review=Quiz.Review.AFTER_EACH,
            shuffle_options=True,
        )
        QuizDrawRule.objects.create(quiz=quiz, count=CHALLENGE_LENGTH)
    return quiz
