"""Attempts: freezing, autosave with sequence numbers, the server's deadline, scoring, points."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from learning.models import PointsEntry
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz, QuizDrawRule, WrongAnswer
from quizzes.taking.attempts import attempt_answer_check, attempt_answer_save, attempt_start
from quizzes.taking.daily import challenge_quiz, daily_quiz_make
from quizzes.taking.errors import AttemptError
from quizzes.taking.flag_subjects import attempt_flags_dismiss
from quizzes.taking.pacing import served_token
from quizzes.taking.practice import wrong_answer_practise, wrong_answer_remove, wrong_answers_of
from quizzes.taking.submitting import (
    attempt_question_grade,
    attempt_submit,
    attempts_submit_overdue,
)
from tests.factories.people import MemberFactory
from tests.factories.questions import (
    bank_of_each_type,
    question_create,
    short_answer,
    single_choice,
)
from tests.factories.quizzes import answer_all, drawn_quiz, fixed_quiz, right_answer, wrong_answer
from tests.factories.times import later

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(tree):
    return MemberFactory(username="zhang", organization=tree.branch_a1)


@pytest.fixture
def bank(db):
    return bank_of_each_type()


def items_of(attempt: Attempt) -> list[AttemptQuestion]:
    return list(attempt.questions.order_by("position"))


# --- Starting and freezing --------------------------------------------------------------


def test_start_freezes_questions_so_a_later_edit_changes_nothing(member, bank):
    quiz = fixed_quiz(list(bank.values()))
    attempt = attempt_start(quiz=quiz, member=member)
    question = bank["single"]
    right_id = next(c.pk for c in question.choices.all() if c.is_correct)
    # The editor changes the stem and moves the right answer to another option.
    question.stem = "改过的题干"
    question.save()
    question.choices.filter(pk=right_id).update(is_correct=False)
    question.choices.exclude(pk=right_id).update(is_correct=True)

    first = items_of(attempt)[0]
    assert first.snapshot["stem"] != "改过的题干"
    attempt_answer_save(
        attempt=attempt, member=member, position=1, response={"choices": [right_id]}, seq=1
    )
    attempt = attempt_submit(attempt=attempt, member=member)
    assert items_of(attempt)[0].state == AttemptQuestion.State.CORRECT


def test_a_reload_or_another_phone_resumes_the_same_attempt(member, bank):
    quiz = fixed_quiz(list(bank.values()), time_limit_minutes=30)
    first = attempt_start(quiz=quiz, member=member)
    again = attempt_start(quiz=quiz, member=member)
    assert again.pk == first.pk
    assert again.deadline == first.deadline
    assert Attempt.objects.filter(quiz=quiz, member=member).count() == 1


def test_no_attempt_beyond_the_allowed_number(member, bank):
    quiz = fixed_quiz([bank["single"]], attempts_allowed=1)
    attempt_submit(attempt=attempt_start(quiz=quiz, member=member), member=member)
    with pytest.raises(AttemptError) as error:
        attempt_start(quiz=quiz, member=member)
    assert error.value.code == "no_attempts_left"
    assert Attempt.objects.filter(quiz=quiz).count() == 1


def test_a_member_outside_the_audience_cannot_start(tree, bank):
    outsider = MemberFactory(organization=tree.branch_b1)
    insider = MemberFactory(organization=tree.group_a1)
    quiz = fixed_quiz([bank["single"]], organizations=[tree.general_a])
    with pytest.raises(AttemptError):
        attempt_start(quiz=quiz, member=outsider)
    assert attempt_start(quiz=quiz, member=insider).member == insider
    assert not Attempt.objects.filter(member=outsider).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"is_published": False},
        {"opens_at": later(60)},
        {"opens_at": later(-120), "closes_at": later(-60)},
    ],
    ids=["unpublished", "not-yet-open", "closed"],
)
def test_a_quiz_that_is_not_open_cannot_be_started(member, bank, fields):
    quiz = fixed_quiz([bank["single"]], **fields)
    with pytest.raises(AttemptError):
        attempt_start(quiz=quiz, member=member)


def test_the_deadline_is_the_time_limit_or_the_closing_time_whichever_comes_first(member, bank):
    closes = later(10)
    quiz = fixed_quiz([bank["single"]], time_limit_minutes=30, closes_at=closes)
    assert attempt_start(quiz=quiz, member=member).deadline == closes


def test_draw_rules_draw_the_count_without_repeats(member, db):
    questions = [
        question_create(
            single_choice(stem=f"第{n}题：党的根本宗旨是什么？", category_path=("党章",))
        )
        for n in range(12)
    ]
    quiz = drawn_quiz(5, attempts_allowed=0)
    QuizDrawRule.objects.create(quiz=quiz, count=5, sort_order=1)
    attempt = attempt_start(quiz=quiz, member=member, rng=random.Random(7))
    drawn = [item.question_id for item in items_of(attempt)]
    assert len(drawn) == 10
    assert len(set(drawn)) == 10
    assert set(drawn) <= {question.pk for question in questions}


def test_draw_rules_filter_by_type_and_difficulty(member, bank):
    quiz = drawn_quiz(3)
    rule = quiz.draw_rules.get()
    rule.question_type = Question.Type.TRUE_FALSE
    rule.save()
    attempt = attempt_start(quiz=quiz, member=member)
    assert [item.snapshot["type"] for item in items_of(attempt)] == ["true_false"]


def test_retired_questions_are_not_asked(member, bank):
    bank["single"].status = Question.Status.RETIRED
    bank["single"].save()
    quiz = drawn_quiz(10)
    attempt = attempt_start(quiz=quiz, member=member)
    assert bank["single"].pk not in [item.question_id for item in items_of(attempt)]


def test_a_quiz_without_questions_says_so(member, db):
    with pytest.raises(AttemptError) as error:
        attempt_start(quiz=drawn_quiz(5), member=member)
    assert error.value.code == "no_questions"


# --- Saving -----------------------------------------------------------------------------


def test_a_stale_save_cannot_overwrite_a_newer_answer(member, bank):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    item = items_of(attempt)[0]
    right, wrong = right_answer(item.snapshot), wrong_answer(item.snapshot)
    attempt_answer_save(attempt=attempt, member=member, position=1, response=right, seq=5)
    late = attempt_answer_save(attempt=attempt, member=member, position=1, response=wrong, seq=4)
    assert late.stale
    item.refresh_from_db()
    assert item.response == right
    assert item.response_seq == 5


def test_saving_the_same_answer_twice_is_harmless(member, bank):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    response = right_answer(items_of(attempt)[0].snapshot)
    for _ in range(2):
        attempt_answer_save(attempt=attempt, member=member, position=1, response=response, seq=1)
    assert items_of(attempt)[0].response == response


def test_a_save_after_the_deadline_is_refused(member, bank):
    quiz = fixed_quiz([bank["single"]], time_limit_minutes=5)
    attempt = attempt_start(quiz=quiz, member=member)
    response = right_answer(items_of(attempt)[0].snapshot)
    with pytest.raises(AttemptError) as error:
        attempt_answer_save(
            attempt=attempt, member=member, position=1, response=response, seq=1, at=later(6)
        )
    assert error.value.code == "time_up"
    assert items_of(attempt)[0].response is None


def test_a_malformed_answer_is_refused_and_changes_nothing(member, bank):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    for response in ({"choices": [999999]}, {"value": "yes"}, {"choices": "A"}):
        with pytest.raises(AttemptError) as error:
            attempt_answer_save(
                attempt=attempt, member=member, position=1, response=response, seq=3
            )
        assert error.value.code == "invalid"
    item = items_of(attempt)[0]
    assert item.response is None and item.response_seq == 0


def test_a_member_cannot_save_into_another_members_attempt(member, bank, tree):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    other = MemberFactory(organization=tree.branch_a1)
    with pytest.raises(AttemptError):
        attempt_answer_save(
            attempt=attempt,
            member=other,
            position=1,
            response=wrong_answer(items_of(attempt)[0].snapshot),
            seq=9,
        )
    assert items_of(attempt)[0].response is None


# --- Submitting, deadlines and points ---------------------------------------------------


def test_overdue_attempts_are_submitted_with_their_saved_answers(member, bank):
    quiz = fixed_quiz([bank["single"], bank["true_false"]], time_limit_minutes=5)
    attempt = attempt_start(quiz=quiz, member=member)
    first = items_of(attempt)[0]
    attempt_answer_save(
        attempt=attempt, member=member, position=1, response=right_answer(first.snapshot), seq=1
    )
    assert attempts_submit_overdue(at=later(4)) == 0
    assert attempts_submit_overdue(at=later(6)) == 1
    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert attempt.finished_by == Attempt.FinishedBy.DEADLINE
    assert attempt.score == Decimal(1)
    assert attempt.submitted_at == attempt.deadline


def test_submitting_twice_awards_points_once(member, bank):
    quiz = fixed_quiz(list(bank.values()), kind=Quiz.Kind.TOPIC)
    attempt = attempt_start(quiz=quiz, member=member)
    answer_all(attempt, member)
    first = attempt_submit(attempt=attempt, member=member)
    second = attempt_submit(attempt=attempt, member=member)
    assert first.score == second.score == Decimal(4)
    assert PointsEntry.objects.filter(member=member).count() == 1
    entry = PointsEntry.objects.get(member=member)
    assert entry.rule.code == "topic_quiz"
    assert entry.points == 10  # full marks: the topic rule's most points


def test_every_type_is_scored_from_the_frozen_copy(member, bank):
    attempt = attempt_start(quiz=fixed_quiz(list(bank.values())), member=member)
    items = items_of(attempt)
    attempt_answer_save(
        attempt=attempt, member=member, position=1, response=right_answer(items[0].snapshot), seq=1
    )
    attempt_answer_save(
        attempt=attempt, member=member, position=2, response=wrong_answer(items[1].snapshot), seq=1
    )
    attempt_answer_save(
        attempt=attempt, member=member, position=4, response={"blanks": [" １９２１。 "]}, seq=1
    )
    attempt = attempt_submit(attempt=attempt, member=member)
    states = [item.state for item in items_of(attempt)]
    assert states == ["correct", "wrong", "unanswered", "correct"]
    assert attempt.score == Decimal(2)
    assert attempt.correct_count == 2


def test_exam_points_only_when_passed(member, bank, tree):
    exam = fixed_quiz([bank["single"], bank["true_false"]], kind=Quiz.Kind.EXAM, pass_percent=60)
    attempt = attempt_start(quiz=exam, member=member)
    answer_all(attempt, member, right=False)
    attempt = attempt_submit(attempt=attempt, member=member)
    assert attempt.passed is False
    assert not PointsEntry.objects.filter(member=member).exists()

    other = MemberFactory(organization=tree.branch_a1)
    attempt = attempt_start(quiz=exam, member=other)
    answer_all(attempt, other)
    attempt = attempt_submit(attempt=attempt, member=other)
    assert attempt.passed is True
    assert PointsEntry.objects.get(member=other).rule.code == "exam_passed"


def test_wrong_answers_land_in_the_wrong_answer_book(member, bank):
    attempt = attempt_start(quiz=fixed_quiz(list(bank.values())), member=member)
    answer_all(attempt, member, right=False)
    attempt_submit(attempt=attempt, member=member)
    assert set(wrong_answers_of(member).values_list("question_id", flat=True)) == {
        question.pk for question in bank.values()
    }


def test_an_implausibly_fast_attempt_is_flagged_and_earns_points_only_when_accepted(
    member, bank, secretary_a
):
    quiz = fixed_quiz(list(bank.values()), min_seconds_per_question=5)
    attempt = attempt_start(quiz=quiz, member=member)
    answer_all(attempt, member)
    attempt = attempt_submit(
        attempt=attempt, member=member, at=attempt.started_at + datetime.timedelta(seconds=6)
    )
    assert attempt.too_fast
    assert attempt.score == Decimal(4)
    assert not PointsEntry.objects.filter(member=member).exists()
    attempt = attempt_flags_dismiss(attempt=attempt, by=secretary_a, note="")
    assert PointsEntry.objects.filter(member=member).count() == 1
    assert attempt.integrity == Attempt.Integrity.CLEAR and attempt.points > 0


def test_short_answers_wait_for_grading_then_score_and_award(member, editor, db):
    essay = question_create(short_answer())
    single = question_create(single_choice())
    quiz = fixed_quiz([single, essay], kind=Quiz.Kind.TOPIC)
    attempt = attempt_start(quiz=quiz, member=member)
    answer_all(attempt, member)
    attempt = attempt_submit(attempt=attempt, member=member)
    assert attempt.needs_grading
    assert not PointsEntry.objects.filter(member=member).exists()
    waiting = attempt.questions.get(state=AttemptQuestion.State.NEEDS_GRADING)
    with pytest.raises(AttemptError):
        attempt_question_grade(item=waiting, fraction=Decimal("1.5"), grader=editor)
    attempt = attempt_question_grade(item=waiting, fraction=Decimal("0.5"), grader=editor)
    assert not attempt.needs_grading
    assert attempt.score == Decimal("1.5")
    assert PointsEntry.objects.get(member=member).points == 8  # 1.5 of 2 → 7.5 → 8 of 10
    with pytest.raises(AttemptError):
        attempt_question_grade(item=waiting, fraction=Decimal(1), grader=editor)


# --- The daily quiz ---------------------------------------------------------------------


def test_the_daily_quiz_is_made_once_a_day_and_taken_once(member, db):
    for n in range(8):
        question_create(single_choice(stem=f"每日一题{n}：党的性质是什么？"))
    quiz = daily_quiz_make()
    assert daily_quiz_make().pk == quiz.pk
    assert Quiz.objects.filter(kind=Quiz.Kind.DAILY).count() == 1
    attempt = attempt_start(quiz=quiz, member=member)
    assert attempt.questions.count() == 5
    answer_all(attempt, member)
    attempt_submit(
        attempt=attempt, member=member, at=attempt.started_at + datetime.timedelta(minutes=1)
    )
    with pytest.raises(AttemptError):
        attempt_start(quiz=quiz, member=member)
    entry = PointsEntry.objects.get(member=member)
    assert (entry.rule.code, entry.points) == ("daily_quiz_correct", 5)


def test_the_daily_quiz_avoids_questions_seen_in_the_last_days(member, db):
    for n in range(10):
        question_create(single_choice(stem=f"每日一题{n}：党的宗旨是什么？"))
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    first = attempt_start(
        quiz=daily_quiz_make(day=yesterday),
        member=member,
        at=timezone.now() - datetime.timedelta(days=1),
    )
    second = attempt_start(quiz=daily_quiz_make(), member=member)
    seen = {item.question_id for item in items_of(first)}
    asked = {item.question_id for item in items_of(second)}
    assert not seen & asked


def test_feedback_after_each_question_locks_the_answer(member, db):
    for n in range(5):
        question_create(single_choice(stem=f"第{n}题：入党誓词中要求党员做到什么？"))
    attempt = attempt_start(quiz=daily_quiz_make(), member=member)
    item = items_of(attempt)[0]
    feedback = attempt_answer_check(
        attempt=attempt, member=member, position=1, response=right_answer(item.snapshot)
    )
    assert feedback.correct
    with pytest.raises(AttemptError):
        attempt_answer_save(
            attempt=attempt, member=member, position=1, response=wrong_answer(item.snapshot), seq=9
        )


# --- Challenge --------------------------------------------------------------------------


def test_a_challenge_ends_at_the_first_wrong_answer_and_the_streak_scores(member, db):
    for n in range(6):
        question_create(single_choice(stem=f"挑战{n}：党的最高理想是什么？"))
    attempt = attempt_start(quiz=challenge_quiz(), member=member)
    items = items_of(attempt)
    for position in (1, 2):
        attempt_answer_check(
            attempt=attempt,
            member=member,
            position=position,
            response=right_answer(items[position - 1].snapshot),
        )
    with pytest.raises(AttemptError) as error:
        attempt_answer_check(
            attempt=attempt, member=member, position=5, response=right_answer(items[4].snapshot)
        )
    assert error.value.code == "out_of_order"
    feedback = attempt_answer_check(
        attempt=attempt,
        member=member,
        position=3,
        response=wrong_answer(items[2].snapshot),
        at=attempt.started_at + datetime.timedelta(seconds=30),
    )
    assert not feedback.correct
    attempt = feedback.attempt
    assert attempt.is_submitted
    assert attempt.finished_by == Attempt.FinishedBy.CHALLENGE
    assert attempt.correct_count == 2
    entry = PointsEntry.objects.get(member=member)
    assert (entry.rule.code, entry.points) == ("challenge_quiz", 2)
    # Only the question answered wrongly goes into the book, not the unasked ones.
    assert wrong_answers_of(member).count() == 1


# --- Wrong-answer book ------------------------------------------------------------------


def test_two_right_answers_in_a_row_master_a_question_and_award_once(member, bank):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    answer_all(attempt, member, right=False)
    attempt_submit(attempt=attempt, member=member)
    entry = WrongAnswer.objects.get(member=member)
    right_id = next(c.pk for c in bank["single"].choices.all() if c.is_correct)
    wrong_id = next(c.pk for c in bank["single"].choices.all() if not c.is_correct)
    served = served_token(member, entry.question_id)

    assert not wrong_answer_practise(
        entry=entry, member=member, response={"choices": [right_id]}, served=served
    ).mastered
    assert not wrong_answer_practise(
        entry=entry, member=member, response={"choices": [wrong_id]}, served=served
    ).correct
    assert not wrong_answer_practise(
        entry=entry, member=member, response={"choices": [right_id]}, served=served
    ).mastered
    verdict = wrong_answer_practise(
        entry=entry, member=member, response={"choices": [right_id]}, served=served
    )
    assert verdict.mastered and verdict.points == 1
    assert not wrong_answers_of(member).exists()
    with pytest.raises(AttemptError):
        wrong_answer_practise(
            entry=entry, member=member, response={"choices": [right_id]}, served=served
        )
    assert (
        PointsEntry.objects.filter(member=member, rule__code="wrong_answers_mastered").count() == 1
    )


def test_a_member_can_remove_a_question_but_not_from_anothers_book(member, bank, tree):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    answer_all(attempt, member, right=False)
    attempt_submit(attempt=attempt, member=member)
    entry = WrongAnswer.objects.get(member=member)
    other = MemberFactory(organization=tree.branch_b1)
    with pytest.raises(AttemptError):
        wrong_answer_remove(entry=entry, member=other)
    assert wrong_answers_of(member).count() == 1
    wrong_answer_remove(entry=entry, member=member)
    assert wrong_answers_of(member).count() == 0


# --- Found in review: challenge order, its review, short answers, sequence numbers ------


def challenge_with_questions(member, count: int = 6) -> Attempt:
    for n in range(count):
        question_create(single_choice(stem=f"挑战题{n}：党的根本组织原则是什么？"))
    return attempt_start(quiz=challenge_quiz(), member=member)


def test_a_challenge_cannot_be_answered_by_saving_and_submitting(member, db):
    attempt = challenge_with_questions(member)
    for item in items_of(attempt):
        with pytest.raises(AttemptError) as error:
            attempt_answer_save(
                attempt=attempt,
                member=member,
                position=item.position,
                response=right_answer(item.snapshot),
                seq=1,
            )
        assert error.value.code == "use_check"
    attempt = attempt_submit(attempt=attempt, member=member, at=later(10))
    assert attempt.correct_count == 0
    assert not PointsEntry.objects.filter(member=member).exists()


def test_a_challenge_review_shows_only_the_questions_asked(member, db):
    from quizzes.taking.presenting import attempt_items

    attempt = challenge_with_questions(member)
    first = items_of(attempt)[0]
    feedback = attempt_answer_check(
        attempt=attempt, member=member, position=1, response=wrong_answer(first.snapshot)
    )
    shown = attempt_items(feedback.attempt, review=True)
    assert [item["position"] for item in shown] == [1]


def test_short_answers_stay_out_of_the_wrong_answer_book(member, editor, db):
    essay = question_create(short_answer())
    attempt = attempt_start(quiz=fixed_quiz([essay]), member=member)
    attempt = attempt_submit(attempt=attempt, member=member)  # unanswered
    assert not wrong_answers_of(member).exists()


def test_an_absurd_sequence_number_is_refused_not_a_server_error(member, bank):
    attempt = attempt_start(quiz=fixed_quiz([bank["single"]]), member=member)
    with pytest.raises(AttemptError) as error:
        attempt_answer_save(
            attempt=attempt,
            member=member,
            position=1,
            response=right_answer(items_of(attempt)[0].snapshot),
            seq=2**63,
        )
    assert error.value.code == "bad_seq"


# --- A check racing the saves (issue 12) -------------------------------------------------


def daily_attempt(member) -> Attempt:
    for n in range(3):
        question_create(single_choice(stem=f"快答{n}：中国共产党成立于哪一年？"))
    return attempt_start(quiz=daily_quiz_make(), member=member)


def test_a_check_carrying_its_seq_makes_a_slower_save_stale_not_refused(member, db):
    attempt = daily_attempt(member)
    item = items_of(attempt)[0]
    attempt_answer_save(
        attempt=attempt, member=member, position=1, response=wrong_answer(item.snapshot), seq=1
    )
    feedback = attempt_answer_check(
        attempt=attempt, member=member, position=1, response=right_answer(item.snapshot), seq=3
    )
    assert feedback.correct and feedback.item.response_seq == 3
    # The page's save of seq 2 was sent before the check but arrives after it.
    late = attempt_answer_save(
        attempt=attempt, member=member, position=1, response=wrong_answer(item.snapshot), seq=2
    )
    assert late.stale
    item.refresh_from_db()
    assert item.response == right_answer(item.snapshot)
    assert item.state == AttemptQuestion.State.CORRECT and item.response_seq == 3


def test_a_check_grades_the_answer_it_carries_whatever_was_saved_before(member, db):
    attempt = daily_attempt(member)
    item = items_of(attempt)[0]
    attempt_answer_save(
        attempt=attempt, member=member, position=1, response=right_answer(item.snapshot), seq=5
    )
    # Another phone saved a higher number meanwhile: the check still grades what this
    # member sees and confirmed, and stays above every number saved so far.
    feedback = attempt_answer_check(
        attempt=attempt, member=member, position=1, response=wrong_answer(item.snapshot), seq=2
    )
    assert not feedback.correct
    assert feedback.item.response == wrong_answer(item.snapshot)
    assert feedback.item.response_seq == 6


def test_a_newer_save_after_the_check_is_still_refused(member, db):
    attempt = daily_attempt(member)
    item = items_of(attempt)[0]
    attempt_answer_check(
        attempt=attempt, member=member, position=1, response=right_answer(item.snapshot), seq=2
    )
    with pytest.raises(AttemptError) as refused:
        attempt_answer_save(
            attempt=attempt, member=member, position=1, response=wrong_answer(item.snapshot), seq=3
        )
    assert refused.value.code == "locked"


@pytest.mark.parametrize("seq", [0, -1, 2**31, True, "2"])
def test_a_check_with_an_absurd_seq_is_refused(member, db, seq):
    attempt = daily_attempt(member)
    item = items_of(attempt)[0]
    with pytest.raises(AttemptError) as refused:
        attempt_answer_check(
            attempt=attempt,
            member=member,
            position=1,
            response=right_answer(item.snapshot),
            seq=seq,
        )
    assert refused.value.code == "bad_seq"
    item.refresh_from_db()
    assert item.mark is None


@pytest.mark.parametrize(
    ("allowed", "used", "left"), [(0, 5, None), (1, 0, 1), (3, 1, 2), (2, 2, 0), (2, 5, 0)]
)
def test_attempts_left_counts_down_and_zero_allowed_means_no_limit(allowed, used, left) -> None:
    from quizzes.taking.availability import attempts_left

    assert attempts_left(Quiz(attempts_allowed=allowed), used) == left
