"""Exam questions are locked while the exam can be taken (issue 11, finding 1).

The attack: a member starts the exam, then looks each question up in practice
(``/quiz/practice/<category>/?i=N``, posting a guess to get ``correct_option_ids``), or
after a first attempt practises the exam's questions from the wrong-answer book, and
passes with answers read off the server. Every route is tried here as a member's browser
or app would, over HTTP.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from quizzes.models import Attempt, Question, QuestionCategory, Quiz, QuizDrawRule, WrongAnswer
from quizzes.taking.attempts import attempt_start
from quizzes.taking.daily import challenge_quiz, daily_quiz_make
from quizzes.taking.locks import exam_locks
from quizzes.taking.submitting import attempt_submit
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import answer_all, fixed_quiz, right_answer, take

pytestmark = pytest.mark.django_db

EXAM_CATEGORY = "考试题库"
FREE_CATEGORY = "日常题库"
SECRET = "考试解析："


@pytest.fixture
def bank(db) -> dict[str, list[Question]]:
    """Six questions in the exam's category and six elsewhere, each with its explanation."""
    bank: dict[str, list[Question]] = {EXAM_CATEGORY: [], FREE_CATEGORY: []}
    for category, stems in ((EXAM_CATEGORY, "考"), (FREE_CATEGORY, "日")):
        for number in range(6):
            question = question_create(
                single_choice(
                    stem=f"{stems}题{number}：党的根本宗旨是什么？", category_path=(category,)
                )
            )
            question.explanation = f"{SECRET}{stems}{number}"
            question.save()
            bank[category].append(question)
    return bank


def _category(name: str) -> QuestionCategory:
    return QuestionCategory.objects.get(name=name)


def _exam(bank: dict[str, list[Question]], **fields: Any) -> Quiz:
    """An open exam: two fixed questions and three drawn from the exam's category."""
    values: dict[str, Any] = {
        "kind": Quiz.Kind.EXAM,
        "title": "党章知识考试",
        "attempts_allowed": 2,
        "review": Quiz.Review.AFTER_SUBMIT,
        "closes_at": timezone.now() + datetime.timedelta(days=3),
    }
    values.update(fields)
    exam = fixed_quiz(bank[EXAM_CATEGORY][:2], **values)
    QuizDrawRule.objects.create(quiz=exam, category=_category(EXAM_CATEGORY), count=3)
    return exam


@pytest.fixture
def member(tree):
    return MemberFactory(username="wang", organization=tree.branch_a1)


@pytest.fixture
def browser(client, member):
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def app(member) -> APIClient:
    api = APIClient()
    api.force_authenticate(member)
    return api


def _exam_ids(bank: dict[str, list[Question]]) -> set[int]:
    return {question.pk for question in bank[EXAM_CATEGORY]}


def _practice_walk(browser, category: QuestionCategory) -> list[int]:
    """What a script reads by walking practice ?i=0…N: the ids of the questions shown."""
    seen = []
    for index in range(15):
        response = browser.get(reverse("quizzes:practice", args=[category.pk]), {"i": index})
        if response.status_code == 302:
            return seen
        match = re.search(r'data-question="(\d+)"', response.content.decode())
        assert match is not None
        seen.append(int(match.group(1)))
    return seen


def _practice_check(browser, category: QuestionCategory, question: Question) -> Any:
    return browser.post(
        reverse("quizzes:practice", args=[category.pk]),
        data=json.dumps({"question": question.pk, "response": {"choices": [1]}}),
        content_type="application/json",
    )


# --- practice ---------------------------------------------------------------------------


def test_practice_never_shows_or_checks_a_question_of_an_open_exam(browser, member, bank):
    exam = _exam(bank)
    started = browser.post(reverse("quizzes:start", args=[exam.pk]))
    assert started.status_code == 302
    attempt = Attempt.objects.get(quiz=exam, member=member)
    asked = set(attempt.questions.values_list("question_id", flat=True))
    assert len(asked) == 5

    shown: set[int] = set()
    for category in QuestionCategory.objects.all():
        shown |= set(_practice_walk(browser, category))
    assert shown == {question.pk for question in bank[FREE_CATEGORY]}
    assert not shown & asked

    for question in bank[EXAM_CATEGORY]:
        for category in QuestionCategory.objects.all():
            response = _practice_check(browser, category, question)
            assert response.status_code == 404
            body = response.json()
            assert body["code"] == "no_question"
            assert "correct_option_ids" not in body
            assert SECRET not in response.content.decode()


def test_practice_of_a_locked_category_says_why_it_is_empty(browser, bank):
    _exam(bank)
    response = browser.get(
        reverse("quizzes:practice", args=[_category(EXAM_CATEGORY).pk]), follow=True
    )
    assert "正用于尚未结束的考试" in response.content.decode()


def test_a_scheduled_exam_locks_its_questions_before_it_opens(browser, bank):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    _exam(bank, opens_at=tomorrow, closes_at=tomorrow + datetime.timedelta(hours=2))
    assert _practice_walk(browser, _category(EXAM_CATEGORY)) == []


def test_a_closed_or_unpublished_exam_locks_nothing(browser, bank):
    _exam(
        bank,
        closes_at=timezone.now() - datetime.timedelta(minutes=1),
        opens_at=timezone.now() - datetime.timedelta(days=1),
    )
    _exam(bank, is_published=False)
    walked = _practice_walk(browser, _category(EXAM_CATEGORY))
    assert set(walked) == _exam_ids(bank)


def test_questions_come_back_to_practice_the_moment_the_exam_closes(browser, bank):
    exam = _exam(bank)
    assert _practice_walk(browser, _category(EXAM_CATEGORY)) == []
    Quiz.objects.filter(pk=exam.pk).update(closes_at=timezone.now())
    assert set(_practice_walk(browser, _category(EXAM_CATEGORY))) == _exam_ids(bank)


# --- the wrong-answer book --------------------------------------------------------------


def test_the_wrong_answer_book_holds_exam_questions_until_the_exam_closes(
    app, browser, member, bank
):
    exam = _exam(bank)
    first = take(exam, member, right=False)
    booked = WrongAnswer.objects.filter(member=member)
    assert booked.count() == 5

    listed = app.get(reverse("quizzes_api:wrong_answers"))
    assert listed.status_code == 200
    assert listed.data["results"] == []
    assert listed.data["held"] == 5
    for entry in booked:
        response = app.post(
            reverse("quizzes_api:wrong_answer_practise", args=[entry.pk]),
            {"response": {"choices": [1]}},
            format="json",
        )
        assert response.status_code == 409
        assert response.data["code"] == "held"
        assert SECRET not in json.dumps(response.data, ensure_ascii=False)
        page = browser.post(
            reverse("quizzes:wrong_practise", args=[entry.pk]),
            data=json.dumps({"response": {"choices": [1]}}),
            content_type="application/json",
        )
        assert page.status_code == 409
        assert "correct_option_ids" not in page.json()
        shown = browser.get(reverse("quizzes:wrong_practise", args=[entry.pk]), follow=True)
        assert entry.question.stem not in shown.content.decode()
    book = browser.get(reverse("quizzes:wrong_book")).content.decode()
    assert 'data-testid="wrong-book-held"' in book
    assert not any(question.stem in book for question in bank[EXAM_CATEGORY])
    # Nothing was counted towards mastering while held.
    assert set(booked.values_list("correct_streak", flat=True)) == {0}

    # The second attempt still asks them (its misses are booked, held too); once the exam
    # closes they are all back in the book.
    second = attempt_start(quiz=exam, member=member)
    assert second.number == first.number + 1
    attempt_submit(attempt=second, member=member)
    assert app.get(reverse("quizzes_api:wrong_answers")).data["results"] == []
    Quiz.objects.filter(pk=exam.pk).update(closes_at=timezone.now())
    listed = app.get(reverse("quizzes_api:wrong_answers"))
    assert listed.data["held"] == 0
    assert len(listed.data["results"]) == WrongAnswer.objects.filter(member=member).count() >= 5
    entry = booked.first()
    question = entry.question
    right = {"choices": [question.choices.get(is_correct=True).pk]}
    served = next(row["served"] for row in listed.data["results"] if row["id"] == entry.pk)
    response = app.post(
        reverse("quizzes_api:wrong_answer_practise", args=[entry.pk]),
        {"response": right, "served": served},
        format="json",
    )
    assert response.status_code == 200
    assert response.data["correct"] is True
    assert response.data["explanation"].startswith(SECRET)


# --- reviews ----------------------------------------------------------------------------


def _downloaded_wrong_answers(browser) -> list[str]:
    response = browser.get(reverse("learning:account_data"))
    assert response.status_code == 200
    data = json.loads(b"".join(response.streaming_content))
    section = next(value for key, value in data.items() if "错题" in key or "rong" in key)
    return [row[next(iter(row))] for row in section]


def test_the_data_download_holds_exam_questions_until_the_exam_closes(browser, member, bank):
    exam = _exam(bank)
    take(exam, member, right=False)
    assert WrongAnswer.objects.filter(member=member).count() == 5
    assert _downloaded_wrong_answers(browser) == []
    Quiz.objects.filter(pk=exam.pk).update(closes_at=timezone.now())
    assert len(_downloaded_wrong_answers(browser)) == 5


def test_the_exam_review_holds_answers_while_others_can_still_sit_it(app, browser, member, bank):
    exam = _exam(bank)
    attempt = take(exam, member, right=False)

    detail = app.get(reverse("quizzes_api:attempt", args=[attempt.pk]))
    assert detail.status_code == 200
    assert detail.data["review_allowed"] is True
    body = json.dumps(detail.data, ensure_ascii=False, default=str)
    assert SECRET not in body
    assert "correct_option_ids" not in body
    assert all(question["held"] for question in detail.data["questions"])
    assert {question["held_until"] for question in detail.data["questions"]} == {
        exam.closes_at.isoformat().replace("+00:00", "Z")
    } or all(question["held_until"] for question in detail.data["questions"])

    page = browser.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()
    assert SECRET not in page
    assert page.count('data-testid="held"') == 5

    Quiz.objects.filter(pk=exam.pk).update(closes_at=timezone.now())
    detail = app.get(reverse("quizzes_api:attempt", args=[attempt.pk]))
    assert SECRET in json.dumps(detail.data, ensure_ascii=False, default=str)
    assert not any(question["held"] for question in detail.data["questions"])


def test_a_topic_quiz_review_holds_a_question_an_exam_now_locks(app, member, bank):
    """A topic quiz taken before the exam was published: its review waits too."""
    topic = fixed_quiz(bank[EXAM_CATEGORY][:1] + bank[FREE_CATEGORY][:1], review="after_submit")
    attempt = attempt_start(quiz=topic, member=member)
    answer_all(attempt, member)
    attempt_submit(attempt=attempt, member=member)
    _exam(bank)
    questions = app.get(reverse("quizzes_api:attempt", args=[attempt.pk])).data["questions"]
    held = {question["stem"]: question["held"] for question in questions}
    assert held == {bank[EXAM_CATEGORY][0].stem: True, bank[FREE_CATEGORY][0].stem: False}
    free = next(question for question in questions if not question["held"])
    assert free["feedback"]["explanation"].startswith(SECRET)


def test_a_check_in_an_attempt_drawn_before_the_lock_gives_no_answer(app, member, bank):
    daily = fixed_quiz(bank[EXAM_CATEGORY][:1], kind=Quiz.Kind.TOPIC, review="after_each")
    attempt = attempt_start(quiz=daily, member=member)
    _exam(bank)
    item = attempt.questions.get()
    response = app.post(
        reverse("quizzes_api:check", args=[attempt.pk, item.position]),
        {"response": right_answer(item.snapshot)},
        format="json",
    )
    assert response.status_code == 200
    feedback = response.data["feedback"]
    assert feedback["held"] is True
    assert feedback["correct_option_ids"] == []
    assert feedback["correct_answer"] == ""
    assert feedback["explanation"] == ""


# --- other quizzes ----------------------------------------------------------------------


def test_daily_quizzes_challenges_and_other_quizzes_never_ask_locked_questions(tree, bank):
    exam = _exam(bank)
    locked = _exam_ids(bank)
    topic = fixed_quiz(bank[EXAM_CATEGORY][:3] + bank[FREE_CATEGORY][:2])
    QuizDrawRule.objects.create(quiz=topic, count=4)
    for number in range(8):
        member = MemberFactory(organization=tree.branch_a1)
        for quiz in (daily_quiz_make(), challenge_quiz(), topic):
            attempt = attempt_start(quiz=quiz, member=member)
            asked = set(attempt.questions.values_list("question_id", flat=True))
            assert asked, quiz.kind
            assert not asked & locked, (quiz.kind, number)
        exam_attempt = attempt_start(quiz=exam, member=member)
        assert set(exam_attempt.questions.values_list("question_id", flat=True)) <= locked


def test_a_category_for_exams_only_is_never_practised_or_asked_elsewhere(browser, tree, bank):
    QuestionCategory.objects.filter(name=EXAM_CATEGORY).update(exam_only=True)
    index = browser.get(reverse("quizzes:practice_index")).content.decode()
    assert EXAM_CATEGORY not in index
    assert FREE_CATEGORY in index
    assert _practice_walk(browser, _category(EXAM_CATEGORY)) == []
    member = MemberFactory(organization=tree.branch_a1)
    asked = set(
        attempt_start(quiz=challenge_quiz(), member=member).questions.values_list(
            "question_id", flat=True
        )
    )
    assert asked == {question.pk for question in bank[FREE_CATEGORY]}
    # An exam (even one published later, or none at all) may still draw them.
    exam = _exam(bank, closes_at=None)
    drawn = attempt_start(quiz=exam, member=member)
    assert set(drawn.questions.values_list("question_id", flat=True)) <= _exam_ids(bank)


def test_the_locks_cost_a_few_queries_whatever_the_number_of_questions(
    bank, django_assert_max_num_queries
):
    _exam(bank)
    _exam(bank, title="第二场考试")
    with django_assert_max_num_queries(4):
        locks = exam_locks()
    with django_assert_max_num_queries(1):
        assert locks.locked_ids(q.pk for qs in bank.values() for q in qs) == _exam_ids(bank)


# --- editors ----------------------------------------------------------------------------


def test_editors_see_which_questions_are_locked_and_until_when(client, editor, bank):
    exam = _exam(bank, closes_at=datetime.datetime(2030, 1, 5, 16, 0, tzinfo=datetime.UTC))
    client.force_login(editor)
    listing = client.get(reverse("wagtailsnippets_quizzes_question:list"))
    assert listing.status_code == 200
    content = listing.content.decode()
    assert content.count("2030年1月6日") == 6  # 16:00 UTC is midnight in Shanghai
    assert exam.title in content
    only_locked = client.get(reverse("wagtailsnippets_quizzes_question:list"), {"locked": "yes"})
    text = only_locked.content.decode()
    assert all(question.stem[:10] in text for question in bank[EXAM_CATEGORY])
    assert not any(question.stem[:10] in text for question in bank[FREE_CATEGORY])
    answer = client.get(reverse("quizzes_question_answer", args=[bank[EXAM_CATEGORY][0].pk]))
    assert "2030年1月6日" in answer.content.decode()


def test_what_a_secretary_sees_of_an_open_exam_holds_no_question_or_answer(
    client, secretary_a, member, bank
):
    import io
    import zipfile

    exam = _exam(bank)
    take(exam, member, right=False)
    client.force_login(secretary_a)
    pages = [
        client.get(reverse("quizzes_quiz_results", args=[exam.pk])),
        client.get(reverse("quizzes_quiz_results_export", args=[exam.pk])),
        client.get(reverse("quizzes_quiz_statistics", args=[exam.pk])),
    ]
    assert [page.status_code for page in pages[:2]] == [200, 200]
    # Item statistics (stems, options, how many chose the right one) are for editors.
    assert pages[2].status_code in (302, 403, 404)
    with zipfile.ZipFile(io.BytesIO(pages[1].content)) as workbook:
        sheets = "".join(
            workbook.read(name).decode() for name in workbook.namelist() if name.endswith(".xml")
        )
    for text in (pages[0].content.decode(), sheets):
        assert SECRET not in text
        assert not any(question.stem in text for question in bank[EXAM_CATEGORY])
