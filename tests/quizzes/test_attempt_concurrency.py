"""Duplicate requests at the same moment: one attempt, one submit, points once.

Real threads with their own database connections, on SQLite (one writer at a time) and on
PostgreSQL (row locks), like the ledger's concurrency tests.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection, transaction

from learning.models import PointsEntry
from quizzes.models import Attempt, Quiz
from quizzes.taking.attempts import attempt_answer_check, attempt_answer_save, attempt_start
from quizzes.taking.submitting import attempt_submit
from tests.factories.people import MemberFactory
from tests.factories.questions import bank_of_each_type
from tests.factories.quizzes import answer_all, fixed_quiz, right_answer
from tests.learning.test_points_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
REQUESTS = 8


def test_starting_the_same_quiz_at_once_makes_one_attempt(tree):
    member = MemberFactory(organization=tree.branch_a1)
    quiz = fixed_quiz(list(bank_of_each_type().values()), attempts_allowed=3)
    attempts = run_concurrently([lambda: attempt_start(quiz=quiz, member=member)] * REQUESTS)
    assert len({attempt.pk for attempt in attempts}) == 1
    assert Attempt.objects.filter(quiz=quiz, member=member).count() == 1


def test_submitting_at_once_scores_and_awards_once(tree):
    member = MemberFactory(organization=tree.branch_a1)
    quiz = fixed_quiz(list(bank_of_each_type().values()), kind=Quiz.Kind.TOPIC)
    attempt = attempt_start(quiz=quiz, member=member)
    answer_all(attempt, member)
    later = attempt.started_at + datetime.timedelta(minutes=5)
    results = run_concurrently(
        [lambda: attempt_submit(attempt=attempt, member=member, at=later)] * REQUESTS
    )
    assert {result.score for result in results} == {4}
    assert PointsEntry.objects.filter(member=member).count() == 1
    assert PointsEntry.objects.get(member=member).points == 10


def test_saves_racing_keep_the_highest_sequence_number(tree):
    member = MemberFactory(organization=tree.branch_a1)
    quiz = fixed_quiz([bank_of_each_type()["fill_blank"]])
    attempt = attempt_start(quiz=quiz, member=member)
    run_concurrently(
        [
            (
                lambda seq=seq: attempt_answer_save(
                    attempt=attempt,
                    member=member,
                    position=1,
                    response={"blanks": [f"答案{seq}"]},
                    seq=seq,
                )
            )
            for seq in range(1, REQUESTS + 1)
        ]
    )
    item = attempt.questions.get()
    assert item.response_seq == REQUESTS
    assert item.response == {"blanks": [f"答案{REQUESTS}"]}


def test_racing_starts_of_a_second_attempt_all_get_the_attempt(tree):
    """Twelve taps on "start" for the second allowed attempt: one attempt, no refusal."""
    member = MemberFactory(organization=tree.branch_a1)
    quiz = fixed_quiz(list(bank_of_each_type().values()), attempts_allowed=2)
    attempt_submit(attempt=attempt_start(quiz=quiz, member=member), member=member)
    for _round in range(3):
        attempts = run_concurrently([lambda: attempt_start(quiz=quiz, member=member)] * 12)
        assert len({attempt.pk for attempt in attempts}) == 1
        assert {attempt.number for attempt in attempts} == {2}
        assert Attempt.objects.filter(quiz=quiz, member=member).count() == 2


def _holding_row_lock(model: Any, pk: int, *, no_key: bool = False) -> tuple[Any, Any]:
    """Another connection that locks one row for update until ``release`` is set."""
    import threading

    from django.db import connections

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                model.objects.select_for_update(no_key=no_key).get(pk=pk)
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    return thread, release


@pytest.mark.postgres
def test_members_answering_the_same_quiz_do_not_wait_for_each_other(tree):
    """Writers lock the attempt's row, not the quiz's: a transaction that holds the quiz's
    row as an update of it does (an editor saving the quiz; before, every other member's
    save, check or submit of the same daily quiz) does not hold up this member's save,
    check or submit (docs/benchmarks.md#morning-spike). Inserts that refer to the quiz
    only share its key, which such a lock allows."""
    member = MemberFactory(organization=tree.branch_a1)
    quiz = fixed_quiz(list(bank_of_each_type().values()), review=Quiz.Review.AFTER_EACH)
    attempt = attempt_start(quiz=quiz, member=member)
    thread, release = _holding_row_lock(Quiz, quiz.pk, no_key=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        first = attempt.questions.get(position=1)
        saved = attempt_answer_save(
            attempt=attempt, member=member, position=1, response=right_answer(first.snapshot), seq=1
        )
        checked = attempt_answer_check(
            attempt=attempt, member=member, position=1, response=right_answer(first.snapshot)
        )
        submitted = attempt_submit(attempt=attempt, member=member)
    finally:
        release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert not saved.stale and checked.correct
    assert submitted.state == Attempt.State.SUBMITTED


@pytest.mark.postgres
def test_a_save_still_waits_for_its_own_attempt_being_submitted(tree):
    """The attempt's own row stays locked: a save cannot slip past a submit in progress."""
    from django.db import OperationalError

    member = MemberFactory(organization=tree.branch_a1)
    quiz = fixed_quiz([bank_of_each_type()["fill_blank"]])
    attempt = attempt_start(quiz=quiz, member=member)
    thread, release = _holding_row_lock(Attempt, attempt.pk)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            attempt_answer_save(
                attempt=attempt, member=member, position=1, response={"blanks": ["x"]}, seq=1
            )
    finally:
        release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert attempt.questions.get().response_seq == 0
