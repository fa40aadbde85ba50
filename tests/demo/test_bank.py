"""The demo question bank and ``demo_quiz_seed``: valid data, the quizzes, past attempts, once."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone

from demo import bank_data, people_data
from demo.people import demo_passwords, demo_seed
from demo.quizzes import (
    DAILY_DAYS,
    QuizSeedSummary,
    demo_bank_parsed,
    demo_quiz_seed,
)
from learning.models import Organization, PointsEntry
from learning.points.ledger_check import ledger_differences
from quizzes.bank.formats.base import OPTION_LETTERS
from quizzes.bank.formats.checks import check_question
from quizzes.bank.normalise import normalise_for_fingerprint
from quizzes.bank.services import questions_import
from quizzes.models import (
    Attempt,
    AttemptQuestion,
    DailyQuizSettings,
    Question,
    QuestionCategory,
    Quiz,
    WrongAnswer,
)

# Enough members for every quiz to have takers, few enough to seed in a few seconds.
PARTICIPANTS = 150

ALL_QUESTIONS = [
    (category.name, question)
    for category in bank_data.bank_categories()
    for question in category.questions
]


# --- The data -------------------------------------------------------------------------


def test_every_question_meets_the_import_rules() -> None:
    parsed = demo_bank_parsed()
    problems = [
        str(problem) for question in parsed.questions for problem in check_question(question)
    ]
    assert problems == []


@pytest.mark.django_db
def test_the_import_service_accepts_the_whole_bank() -> None:
    parsed = demo_bank_parsed()
    result = questions_import(parsed, category=bank_data.ROOT_CATEGORY, dry_run=True)
    assert [str(problem) for problem in result.problems] == []
    assert result.skipped == []
    assert len(result.questions) == len(parsed.questions)


def test_eight_categories_of_about_300_questions() -> None:
    names = [category.name for category in bank_data.bank_categories()]
    assert len(names) == len(set(names)) == 8
    assert 280 <= len(ALL_QUESTIONS) <= 320
    sizes = [len(category.questions) for category in bank_data.bank_categories()]
    assert min(sizes) >= 30


def test_every_category_has_every_question_type() -> None:
    for category in bank_data.bank_categories():
        kinds = Counter(question.type for question in category.questions)
        assert set(kinds) == set(Question.Type.values), category.name


def test_no_stem_is_repeated() -> None:
    stems = Counter(normalise_for_fingerprint(question.stem) for _name, question in ALL_QUESTIONS)
    assert [stem for stem, count in stems.items() if count > 1] == []


def test_choice_answers_name_options_that_exist() -> None:
    for _name, question in ALL_QUESTIONS:
        if question.type in (Question.Type.SINGLE, Question.Type.MULTIPLE):
            correct = [choice for choice in question.choices if choice.is_correct]
            assert correct, question.stem
            assert len(question.choices) <= len(OPTION_LETTERS), question.stem
        if question.type == Question.Type.SINGLE:
            assert len(correct) == 1, question.stem


def test_every_question_is_explained_and_short_answers_have_a_reference() -> None:
    for _name, question in ALL_QUESTIONS:
        assert question.explanation.strip(), question.stem
        if question.type == Question.Type.SHORT_ANSWER:
            assert len(question.reference_answer) > 20, question.stem


def test_difficulties_span_easy_to_hard() -> None:
    difficulties = Counter(question.difficulty for _name, question in ALL_QUESTIONS)
    assert set(difficulties) == {1, 2, 3, 4, 5}
    assert difficulties[5] < difficulties[2]


def test_some_blanks_accept_several_answers() -> None:
    blanks = [answers for _name, question in ALL_QUESTIONS for answers in question.blanks]
    assert sum(1 for answers in blanks if len(answers) > 1) >= 10


# --- Seeding --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_summary(django_db_setup: None, django_db_blocker) -> Iterator[QuizSeedSummary]:
    """The demo organisation and its quizzes, seeded once for the module and rolled back.

    Each test's own ``db`` transaction nests inside this one as a savepoint.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        demo_seed(demo_passwords("Demo-pass-2024"))
        committee = Organization.objects.get(code=people_data.COMMITTEE_CODE)
        yield demo_quiz_seed(committee=committee, participants=PARTICIPANTS)
        transaction.set_rollback(True)


@pytest.fixture
def summary(seeded_summary: QuizSeedSummary, db: None) -> QuizSeedSummary:
    return seeded_summary


def _demo_quiz(kind: str) -> Quiz:
    return Quiz.objects.get(kind=kind)


def test_bank_is_imported_under_its_own_category(summary: QuizSeedSummary) -> None:
    root = QuestionCategory.get_root_nodes().get(name=bank_data.ROOT_CATEGORY)
    assert sorted(category.name for category in root.get_children()) == sorted(
        category.name for category in bank_data.bank_categories()
    )
    assert summary.questions == len(ALL_QUESTIONS)
    assert Question.objects.filter(category__path__startswith=root.path).count() == len(
        ALL_QUESTIONS
    )
    assert set(Question.objects.values_list("type", flat=True)) == set(Question.Type.values)


def test_daily_quiz_has_five_questions_and_past_days_have_quizzes(
    summary: QuizSeedSummary,
) -> None:
    assert DailyQuizSettings.current().question_count == 5
    today = timezone.localdate()
    days = set(Quiz.objects.filter(kind=Quiz.Kind.DAILY).values_list("local_date", flat=True))
    expected = {today - datetime.timedelta(days=offset) for offset in range(1, DAILY_DAYS + 1)}
    assert days == expected
    taken = Attempt.objects.filter(quiz__kind=Quiz.Kind.DAILY).values("quiz").distinct()
    assert taken.count() >= DAILY_DAYS // 2
    lengths = Attempt.objects.filter(quiz__kind=Quiz.Kind.DAILY).annotate(n=Count("questions"))
    assert {attempt.n for attempt in lengths} == {5}


def test_topic_quiz_draws_from_three_categories_and_is_open_for_30_days(
    summary: QuizSeedSummary,
) -> None:
    topic = _demo_quiz(Quiz.Kind.TOPIC)
    assert topic.closes_at - topic.opens_at == datetime.timedelta(days=30)
    assert topic.is_open()
    assert topic.draw_rules.values("category").distinct().count() == 3


def test_exam_is_timed_with_a_pass_mark_and_fixed_and_drawn_questions(
    summary: QuizSeedSummary,
) -> None:
    exam = _demo_quiz(Quiz.Kind.EXAM)
    assert exam.time_limit_minutes == 30
    assert exam.pass_percent == 60
    assert exam.review == Quiz.Review.AFTER_CLOSE
    assert exam.fixed_questions.count() == 5
    assert exam.draw_rules.count() >= 3
    attempt = Attempt.objects.filter(quiz=exam).first()
    assert attempt is not None
    assert attempt.max_score == 100
    fixed = set(exam.fixed_questions.values_list("question_id", flat=True))
    asked = set(attempt.questions.values_list("question_id", flat=True))
    assert fixed < asked


def test_a_weekly_quiz_for_this_week_exists(summary: QuizSeedSummary) -> None:
    weekly = _demo_quiz(Quiz.Kind.WEEKLY)
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    assert timezone.localtime(weekly.opens_at).date() == monday
    assert weekly.is_open()


def test_many_submitted_attempts_in_the_past_by_many_members(summary: QuizSeedSummary) -> None:
    submitted = Attempt.objects.filter(state=Attempt.State.SUBMITTED)
    assert submitted.count() > 100
    assert summary.attempts == Attempt.objects.count() == submitted.count()
    assert submitted.values("member").distinct().count() >= 40
    now = timezone.now()
    assert not Attempt.objects.filter(Q(started_at__gt=now) | Q(submitted_at__gt=now)).exists()
    assert not AttemptQuestion.objects.filter(saved_at__gt=now).exists()
    # The demo accounts are left for the person trying the demo.
    reserved = [account.username for account in people_data.DEMO_ACCOUNTS]
    assert not Attempt.objects.filter(member__username__in=reserved).exists()


def test_easy_questions_are_answered_right_more_often_than_hard_ones(
    summary: QuizSeedSummary,
) -> None:
    scored = AttemptQuestion.objects.filter(
        state__in=[AttemptQuestion.State.CORRECT, AttemptQuestion.State.WRONG]
    )
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for difficulty, state in scored.values_list("question__difficulty", "state"):
        band = "easy" if difficulty <= 2 else "hard" if difficulty >= 4 else "middle"
        total[band] += 1
        right[band] += state == AttemptQuestion.State.CORRECT
    rates = {band: right[band] / total[band] for band in total}
    assert rates["easy"] > rates["middle"] > rates["hard"]


def test_members_differ_in_ability(summary: QuizSeedSummary) -> None:
    right: Counter[int] = Counter()
    total: Counter[int] = Counter()
    scored = AttemptQuestion.objects.filter(
        state__in=[AttemptQuestion.State.CORRECT, AttemptQuestion.State.WRONG]
    )
    for member_id, state in scored.values_list("attempt__member_id", "state"):
        total[member_id] += 1
        right[member_id] += state == AttemptQuestion.State.CORRECT
    rates = [right[member] / total[member] for member in total if total[member] >= 10]
    assert len(rates) >= 10
    assert max(rates) - min(rates) > 0.3
    exam = _demo_quiz(Quiz.Kind.EXAM)
    assert Attempt.objects.filter(quiz=exam, passed__isnull=False).exists()


def test_some_short_answers_wait_for_grading_and_some_are_graded(
    summary: QuizSeedSummary,
) -> None:
    waiting = AttemptQuestion.objects.filter(state=AttemptQuestion.State.NEEDS_GRADING)
    assert waiting.count() == summary.waiting_for_grading > 0
    assert Attempt.objects.filter(needs_grading=True).exists()
    graded = AttemptQuestion.objects.filter(state=AttemptQuestion.State.GRADED)
    assert graded.exists()
    assert not graded.filter(graded_by__isnull=True).exists()


def test_points_and_wrong_answers_come_from_the_services(summary: QuizSeedSummary) -> None:
    awarded = Attempt.objects.filter(points__gt=0)
    assert awarded.exists()
    rules = set(
        PointsEntry.objects.filter(idempotency_key__startswith="quiz").values_list(
            "rule__code", flat=True
        )
    )
    assert {"daily_quiz_correct", "exam_passed", "topic_quiz"} <= rules
    assert ledger_differences() == []
    assert WrongAnswer.objects.exists()
    average = Attempt.objects.filter(quiz__kind=Quiz.Kind.DAILY).aggregate(avg=Avg("score"))
    assert 1.5 < average["avg"] < 4.8


def test_second_run_changes_nothing(summary: QuizSeedSummary) -> None:
    def snapshot() -> dict[str, int]:
        return {
            "questions": Question.objects.count(),
            "categories": QuestionCategory.objects.count(),
            "quizzes": Quiz.objects.count(),
            "attempts": Attempt.objects.count(),
            "items": AttemptQuestion.objects.count(),
            "ledger": PointsEntry.objects.count(),
        }

    before = snapshot()
    committee = Organization.objects.get(code=people_data.COMMITTEE_CODE)
    again = demo_quiz_seed(committee=committee, participants=PARTICIPANTS)
    assert again == QuizSeedSummary()
    assert not again.created
    assert snapshot() == before
