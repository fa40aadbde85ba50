"""Practice by category and from the wrong-answer book (错题本).

Practice changes no result: nothing is stored for a category practice; the wrong-answer
book only counts correct answers in a row, and a question leaves it after
``MASTERED_AFTER`` of them (awarding ``wrong_answers_mastered`` once per mastering).
The member answers the live question, so the book always practises its current wording.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import Member
from learning.points.ledger import points_award
from quizzes.bank.selectors import question_snapshot
from quizzes.models import Question, QuestionCategory, Quiz, WrongAnswer
from quizzes.taking import pacing, scoring
from quizzes.taking.errors import AttemptError
from quizzes.taking.locks import ExamLocks, exam_locks
from quizzes.taking.presenting import correct_answer_text, question_view

# A question leaves the wrong-answer book after this many correct answers in a row.
MASTERED_AFTER = 2

# Why a question of the wrong-answer book cannot be practised for now.
HELD_MESSAGE = gettext_lazy(
    "This question is used in an exam that is still open; you can practise it again once "
    "the exam has closed."
)


@dataclass(frozen=True)
class PracticeVerdict:
    correct: bool
    state: str
    correct_answer: str
    correct_option_ids: list[int]
    explanation: str
    correct_value: bool | None = None
    mastered: bool = False
    points: int = 0


def practice_question(question: Question) -> dict[str, Any]:
    """A live question shown for practice, options in bank order, without answers.

    Reads ``question.choices`` and ``question.blanks`` (prefetch them for a list).
    """
    snapshot = question_snapshot(question)
    order = [choice["id"] for choice in snapshot["choices"]]
    return {"id": question.pk, **question_view(snapshot, order)}


def practice_questions(
    category: QuestionCategory | None, *, locks: ExamLocks | None = None
) -> QuerySet[Question]:
    """Active, automatically scored questions of a category subtree (or the whole bank),
    without those exams hold back (``quizzes.taking.locks``)."""
    questions = Question.objects.filter(status=Question.Status.ACTIVE).exclude(
        type=Question.Type.SHORT_ANSWER
    )
    if category is not None:
        questions = questions.filter(category__path__startswith=category.path)
    questions = (locks or exam_locks()).exclude_locked(questions)
    return questions.order_by("pk")


def practice_categories() -> QuerySet[QuestionCategory]:
    """The top-level categories offered for practice (not those for exams only)."""
    return QuestionCategory.objects.filter(depth=1, exam_only=False).order_by("sort_order", "name")


def practice_pick(
    category: QuestionCategory | None, *, index: int | None, rng: random.Random | None = None
) -> tuple[Question | None, int, int]:
    """The question at ``index`` (sequential) or a random one; with its index and the total."""
    ids = list(practice_questions(category).values_list("pk", flat=True))
    if not ids:
        return None, 0, 0
    if index is None:
        index = (rng or random.SystemRandom()).randrange(len(ids))
    index = index % len(ids)
    question = Question.objects.prefetch_related("choices", "blanks").get(pk=ids[index])
    return question, index, len(ids)


def practice_answer(
    *, member: Member, question: Question, response: Any, served: Any
) -> PracticeVerdict:
    """The verdict on ``response`` to a practice question the server showed ``member``.

    ``served`` is the token the page (or API) got with the question; the verdict waits for
    its reading time and counts towards the member's verdict limit (``pacing``).
    """
    snapshot = question_snapshot(question)
    if not scoring.response_is_valid(snapshot, response):
        raise AttemptError(_("Choose or write an answer first."), "invalid")
    shown_at = pacing.served_at(served, member, question.pk)
    pacing.reading_check(snapshot, since=shown_at, now=timezone.now())
    pacing.verdict_count(member)
    return practice_check(question, response, snapshot=snapshot)


def practice_check(
    question: Question, response: Any, *, snapshot: dict[str, Any] | None = None
) -> PracticeVerdict:
    """Whether ``response`` answers ``question`` right, with the answer and 解析 (unpaced:
    members reach it through ``practice_answer`` and ``wrong_answer_practise``)."""
    snapshot = snapshot or question_snapshot(question)
    if not scoring.response_is_valid(snapshot, response):
        raise AttemptError(_("Choose or write an answer first."), "invalid")
    result = scoring.score_response(snapshot, response, Quiz.MultipleRule.ALL_OR_NOTHING)
    correct_ids = [choice["id"] for choice in snapshot["choices"] if choice["is_correct"]]
    return PracticeVerdict(
        correct=result.state == scoring.ResponseState.CORRECT,
        state=str(result.state),
        correct_answer=correct_answer_text(snapshot),
        correct_option_ids=correct_ids,
        explanation=question.explanation,
        correct_value=question.true_false_answer
        if question.type == Question.Type.TRUE_FALSE
        else None,
    )


def without_held_questions(
    entries: QuerySet[WrongAnswer], *, locks: ExamLocks | None = None
) -> QuerySet[WrongAnswer]:
    """``entries`` without the questions an open or scheduled exam holds back now: that a
    member got one wrong says something of its answer (the book and the data download)."""
    locks = locks or exam_locks()
    if not locks.active:
        return entries
    return entries.exclude(question__in=locks.locked_questions().values("pk"))


def wrong_answers_of(member: Member, *, locks: ExamLocks | None = None) -> QuerySet[WrongAnswer]:
    """The member's open wrong-answer book, most recent mistakes first.

    Questions an exam holds back are left out until the lock ends (``wrong_answers_held``
    counts them): a mistake made in a first attempt at an exam must not become a way to
    look up its answer before the next one.
    """
    entries = WrongAnswer.objects.filter(
        member=member, mastered_at__isnull=True, removed_at__isnull=True
    )
    return (
        without_held_questions(entries, locks=locks)
        .select_related("question", "question__category")
        .order_by("-last_wrong_at", "-pk")
    )


def wrong_answers_held(member: Member, *, locks: ExamLocks | None = None) -> int:
    """How many questions of the member's open book exams hold back for now."""
    locks = locks or exam_locks()
    if not locks.active:
        return 0
    return WrongAnswer.objects.filter(
        member=member,
        mastered_at__isnull=True,
        removed_at__isnull=True,
        question__in=locks.locked_questions().values("pk"),
    ).count()


def wrong_answer_practise(
    *, entry: WrongAnswer, member: Member, response: Any, served: Any
) -> PracticeVerdict:
    """Answer a question from the book: two right in a row and it is mastered.

    Refused (``held``) while an exam holds the question back; ``served`` is the token the
    page (or API) got with the question, paced as in ``practice_answer``.
    """
    if entry.member_id != member.pk:
        raise AttemptError(_("This is not your wrong-answer book."), "not_yours")
    if exam_locks().locked_ids([entry.question_id]):
        raise AttemptError(str(HELD_MESSAGE), "held")
    question = Question.objects.prefetch_related("choices", "blanks").get(pk=entry.question_id)
    verdict = practice_answer(member=member, question=question, response=response, served=served)
    now = timezone.now()
    with transaction.atomic():
        locked = WrongAnswer.objects.select_for_update().get(pk=entry.pk)
        if not locked.is_open:
            raise AttemptError(_("This question is no longer in your wrong-answer book."), "closed")
        if not verdict.correct:
            locked.correct_streak = 0
            locked.wrong_count += 1
            locked.last_wrong_at = now
            locked.save(update_fields=["correct_streak", "wrong_count", "last_wrong_at"])
            return verdict
        locked.correct_streak += 1
        if locked.correct_streak < MASTERED_AFTER:
            locked.save(update_fields=["correct_streak"])
            return verdict
        locked.mastered_at = now
        locked.mastered_count += 1
        locked.save(update_fields=["correct_streak", "mastered_at", "mastered_count"])
        award = points_award(
            member=member,
            rule_code="wrong_answers_mastered",
            key=f"wrong-answer:{locked.pk}:{locked.mastered_count}",
            source=question,
        )
    return PracticeVerdict(
        **{**verdict.__dict__, "mastered": True, "points": award.points if award.created else 0}
    )


def wrong_answer_remove(*, entry: WrongAnswer, member: Member) -> None:
    """The member takes a question out of their book themselves."""
    if entry.member_id != member.pk:
        raise AttemptError(_("This is not your wrong-answer book."), "not_yours")
    WrongAnswer.objects.filter(pk=entry.pk, removed_at__isnull=True).update(
        removed_at=timezone.now()
    )
