"""Starting and answering quiz attempts (services).

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

Submitting, scoring and grading are in ``quizzes.taking.submitting``; who may take which
quiz in ``quizzes.taking.availability``; the daily quiz and the challenge in
``quizzes.taking.daily``; the error every service raises in ``quizzes.taking.errors``.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.models import Member
from quizzes.bank.selectors import draw_rule_filter, question_snapshot
from quizzes.models import Attempt, AttemptQuestion, DailyQuizSettings, Question, Quiz, QuizDrawRule
from quizzes.taking import pacing, scoring
from quizzes.taking.availability import attempts_left, quiz_is_for
from quizzes.taking.errors import AttemptError
from quizzes.taking.locks import ExamLocks, exam_locks
from quizzes.taking.submitting import ATTEMPT_ROW, attempt_submit, score_item

# How many times a start reads again after losing a race to create the attempt.
START_ROUNDS = 5
# Sequence numbers are stored in a 32-bit column.
MAX_SEQ = 2**31 - 1


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
                # A challenge serves one question at a time (the next after each check).
                served_at=now if quiz.kind != Quiz.Kind.CHALLENGE or position == 1 else None,
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
        if seq <= item.response_seq:
            return SaveResult(item=item, stale=True)
        # The attempt's row is locked: no other writer of its answers runs until this
        # transaction ends, so the row read above is current and needs no second read.
        item.response, item.response_seq, item.saved_at = response or None, seq, now
        AttemptQuestion.objects.filter(pk=item.pk).update(
            response=item.response, response_seq=seq, saved_at=now
        )
    return SaveResult(item=item, stale=False)


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
        last_verdict_at, locked.question_count = _verdicts_so_far(locked, item)
        pacing.reading_check(item.snapshot, since=last_verdict_at, now=now)
        if locked.deadline is None:
            # A timed quiz's checks are bounded by its questions and its clock; the limit
            # must not refuse them while the time runs (practice spent it, say).
            pacing.verdict_count(member)
        item.response = response
        item.response_seq = min(MAX_SEQ, max(item.response_seq + 1, seq or 0))
        item.saved_at = now
        score_item(item, locked.multiple_rule)
        item.save(update_fields=["response", "response_seq", "saved_at", "mark", "state"])
        correct = item.state == AttemptQuestion.State.CORRECT
        if locked.quiz.kind == Quiz.Kind.CHALLENGE and correct:
            AttemptQuestion.objects.filter(
                attempt=locked, position=position + 1, served_at__isnull=True
            ).update(served_at=now)
    if locked.quiz.kind == Quiz.Kind.CHALLENGE and not correct:
        locked = attempt_submit(attempt=locked, finished_by=Attempt.FinishedBy.CHALLENGE, at=now)
    elif locked.quiz.kind == Quiz.Kind.CHALLENGE and _challenge_next(locked) is None:
        locked = attempt_submit(attempt=locked, at=now)
    return Feedback(item=item, correct=correct, attempt=locked)


def _verdicts_so_far(attempt: Attempt, item: AttemptQuestion) -> tuple[datetime.datetime, int]:
    """From when ``item`` is read (when it was served, or the attempt's last verdict
    since), and how many questions the attempt has (the reply shows it), in one query."""
    served = item.served_at or attempt.started_at
    found = AttemptQuestion.objects.filter(attempt=attempt).aggregate(
        last=Max("saved_at", filter=Q(mark__isnull=False)), count=Count("pk")
    )
    checked = found["last"]
    return (max(served, checked) if checked else served), found["count"]


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
    # Whose it is, read under the lock: the caller may pass a bare reference (the API
    # does, rather than read the attempt a first time without the lock).
    locked = (
        Attempt.objects.select_for_update(of=ATTEMPT_ROW)
        .select_related("quiz")
        .filter(pk=attempt.pk, member_id=member.pk)
        .first()
    )
    if locked is None:
        raise AttemptError(_("This is not your attempt."), "not_yours")
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
