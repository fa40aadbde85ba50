"""Questions locked for exams: never shown, checked or explained elsewhere meanwhile.

A score only means something if the answers were not available beforehand (see
docs/attempts.md, "Exam locks"). A question is *locked* while an exam that can still be
taken can ask it:

- an exam that is published and has not closed yet (open now, or scheduled to open)
  locks its fixed questions and every question its drawing rules could draw;
- a category marked "for exams only" locks its questions (and its subcategories') for
  good.

Locked questions are left out of practice, the wrong-answer book, challenges and every
quiz that is not an exam; reviews hold back their verdict, right answer and explanation
until the lock ends, the exam's own review included (its participants would otherwise
pass the answers on to those still to sit it). Only editors see them, with the date
they become free again.

The locks are worked out from the exams and the bank each time they are needed (a few
queries, without per-question rows), so they can never be stale: publishing an exam locks
its questions at once, and they are free again the moment it closes.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from quizzes.bank.selectors import draw_rule_filter
from quizzes.models import Question, QuestionCategory, Quiz, QuizDrawRule


@dataclass(frozen=True)
class Lock:
    """Why a question is locked, and until when.

    ``until`` is when it is free again: the latest closing time of the exams that can ask
    it, or None when one of them has no closing time (locked while it stays published)
    or the question is in a category for exams only (``exam_only``).
    """

    until: datetime.datetime | None
    exam_only: bool = False
    exams: tuple[str, ...] = ()


@dataclass(frozen=True)
class _ExamPool:
    exam: Quiz
    condition: Q


@dataclass(frozen=True)
class ExamLocks:
    """The locks in force at ``at``; build with ``exam_locks()`` once per request."""

    at: datetime.datetime
    pools: tuple[_ExamPool, ...] = ()
    exam_only: Q | None = None
    _conditions: tuple[Q, ...] = field(default=(), repr=False)

    @property
    def active(self) -> bool:
        """Whether any question is locked at all (no exam and no exam-only category: no)."""
        return bool(self._conditions)

    def condition(self) -> Q:
        """A filter on ``Question`` matching exactly the locked questions."""
        if not self._conditions:
            # Matches nothing: pk is never null.
            return Q(pk__isnull=True)
        return reduce(operator.or_, self._conditions)

    def locked_questions(self) -> QuerySet[Question]:
        return Question.objects.filter(self.condition())

    def exclude_locked(self, questions: QuerySet[Question]) -> QuerySet[Question]:
        """``questions`` without the locked ones (a subquery: no id list however many)."""
        if not self.active:
            return questions
        return questions.exclude(pk__in=self.locked_questions().values("pk"))

    def locked_ids(self, question_ids: Iterable[int | None]) -> set[int]:
        """Which of ``question_ids`` are locked, in one query."""
        ids = {pk for pk in question_ids if pk is not None}
        if not ids or not self.active:
            return set()
        return set(self.locked_questions().filter(pk__in=ids).values_list("pk", flat=True))

    def locks_of(self, question_ids: Iterable[int | None]) -> dict[int, Lock]:
        """Each locked question of ``question_ids`` with its ``Lock`` (for editors' pages).

        One query per exam that can still be taken, plus one for exam-only categories.
        """
        ids = {pk for pk in question_ids if pk is not None}
        if not ids or not self.active:
            return {}
        exam_only_ids: set[int] = set()
        if self.exam_only is not None:
            exam_only_ids = set(
                Question.objects.filter(self.exam_only, pk__in=ids).values_list("pk", flat=True)
            )
        by_question: dict[int, list[Quiz]] = {}
        for pool in self.pools:
            matching = Question.objects.filter(pool.condition, pk__in=ids)
            for pk in matching.values_list("pk", flat=True):
                by_question.setdefault(pk, []).append(pool.exam)
        locks = {}
        for pk in ids:
            exams = by_question.get(pk, [])
            if pk in exam_only_ids:
                titles = tuple(exam.title for exam in exams)
                locks[pk] = Lock(until=None, exam_only=True, exams=titles)
            elif exams:
                closing = [exam.closes_at for exam in exams]
                until = None if None in closing else max(c for c in closing if c is not None)
                locks[pk] = Lock(until=until, exams=tuple(exam.title for exam in exams))
        return locks


def exams_still_to_take(at: datetime.datetime) -> QuerySet[Quiz]:
    """Published exams that are open at ``at`` or will open later."""
    return Quiz.objects.filter(kind=Quiz.Kind.EXAM, is_published=True).filter(
        Q(closes_at__isnull=True) | Q(closes_at__gt=at)
    )


def exam_pool_condition(exam: Quiz) -> Q | None:
    """Every question ``exam`` can ask: its fixed questions and its rules' pools.

    Reads ``exam.fixed_questions`` and ``exam.draw_rules`` (prefetch them for a list).
    """
    conditions = [draw_rule_filter(rule) for rule in exam.draw_rules.all()]
    fixed = [item.question_id for item in exam.fixed_questions.all()]
    if fixed:
        conditions.append(Q(pk__in=fixed))
    if not conditions:
        return None
    return reduce(operator.or_, conditions)


def exam_only_condition() -> Q | None:
    """The questions of categories (and their subcategories) marked for exams only."""
    paths = list(QuestionCategory.objects.filter(exam_only=True).values_list("path", flat=True))
    if not paths:
        return None
    return reduce(operator.or_, (Q(category__path__startswith=path) for path in paths))


def exam_locks(*, at: datetime.datetime | None = None) -> ExamLocks:
    """The exam locks in force at ``at`` (now by default): two to four queries."""
    now = at or timezone.now()
    exams = exams_still_to_take(now).prefetch_related(
        "fixed_questions",
        Prefetch("draw_rules", queryset=QuizDrawRule.objects.select_related("category")),
    )
    pools = []
    for exam in exams.order_by("closes_at", "pk"):
        condition = exam_pool_condition(exam)
        if condition is not None:
            pools.append(_ExamPool(exam=exam, condition=condition))
    exam_only = exam_only_condition()
    conditions = [pool.condition for pool in pools]
    if exam_only is not None:
        conditions.append(exam_only)
    return ExamLocks(at=now, pools=tuple(pools), exam_only=exam_only, _conditions=tuple(conditions))
