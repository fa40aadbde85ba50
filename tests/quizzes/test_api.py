"""The quiz REST API (/api/v1/): what reaches the app, who may touch what, bad bodies, queries."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from learning.models import Member, PointsEntry
from quizzes.models import Attempt, Question, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_start
from quizzes.taking.daily import daily_quiz_make
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import (
    fill_blank,
    multiple_choice,
    question_create,
    short_answer,
    single_choice,
    true_false,
)
from tests.factories.quizzes import fixed_quiz, right_answer, wrong_answer

pytestmark = pytest.mark.django_db

FILL_ANSWER = "嘉兴南湖"
EXPLANATIONS = {
    "single": "解析甲：一大于1921年召开。",
    "multiple": "解析乙：四个意识见十八届六中全会公报。",
    "true_false": "解析丙：见党章第十条。",
    "fill_blank": "解析丁：会议转移到浙江嘉兴继续举行。",
}
# Keys that carry answers in a frozen question or in feedback: none may appear before submit.
# (A snapshot's accepted blanks would show as the fill-in answer, which is searched for.)
ANSWER_KEYS = (
    "is_correct",
    "correct_option_ids",
    "correct_answer",
    "explanation",
    "true_false_answer",
    "reference_answer",
    "weight",
    "feedback",
)
# Queries a list page may make, whatever its length: session, member, count, the page, and
# one query per related list (the member's record per quiz; options and blanks of questions).
ATTEMPTS_QUERIES = 4
QUIZZES_QUERIES = 7  # + today's daily quiz
# + the exam locks: the exams still to take and the categories for exams only.
WRONG_ANSWERS_QUERIES = 8


# --- Fixtures and helpers ---------------------------------------------------------------


def book_wrong_answer(*, member_id: int, question_id: int, at: Any) -> WrongAnswer:
    """A question in the member's wrong-answer book, as a wrong answer would put it there."""
    return WrongAnswer.objects.create(
        member_id=member_id, question_id=question_id, last_wrong_at=at
    )


@pytest.fixture
def member(tree) -> Member:
    return MemberFactory(username="zhao", organization=tree.branch_a1)


@pytest.fixture
def other(tree) -> Member:
    return MemberFactory(username="qian", organization=tree.branch_a1)


def signed_in(member: Member, **options: Any) -> APIClient:
    client = APIClient(**options)
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def api(member) -> APIClient:
    return signed_in(member)


@pytest.fixture
def bank(db) -> dict[str, Question]:
    """One question of each automatically scored type, each with its own 解析."""
    parsed = {
        "single": single_choice(),
        "multiple": multiple_choice(),
        "true_false": true_false(),
        "fill_blank": fill_blank(stem="中共一大最后在____的游船上闭幕。", answers=(FILL_ANSWER,)),
    }
    return {
        kind: question_create(dataclasses.replace(question, explanation=EXPLANATIONS[kind]))
        for kind, question in parsed.items()
    }


@pytest.fixture
def quiz(bank) -> Quiz:
    return fixed_quiz(list(bank.values()), title="党章知识测验", time_limit_minutes=20)


def url(name: str, *args: int) -> str:
    return reverse(f"quizzes_api:{name}", args=args)


def put_answer(client: APIClient, attempt: Attempt, position: int, response: Any, seq: int):
    return client.put(
        url("answer", attempt.pk, position), {"response": response, "seq": seq}, format="json"
    )


def check(client: APIClient, attempt: Attempt, position: int, response: Any):
    return client.post(url("check", attempt.pk, position), {"response": response}, format="json")


def snapshot_at(attempt: Attempt, position: int) -> dict[str, Any]:
    return attempt.questions.get(position=position).snapshot


def assert_no_answers(raw: str) -> None:
    """Nothing in ``raw`` JSON tells which answer is right, or why."""
    for key in ANSWER_KEYS:
        assert f'"{key}"' not in raw, key
    for explanation in EXPLANATIONS.values():
        assert explanation not in raw
    assert FILL_ANSWER not in raw


def assert_options_carry_no_marks(body: dict[str, Any]) -> None:
    for question in body["questions"]:
        for option in question["options"]:
            assert set(option) == {"id", "letter", "text"}


def saved_state(attempt: Attempt) -> list[tuple[Any, ...]]:
    return list(
        attempt.questions.order_by("position").values_list(
            "response", "response_seq", "saved_at", "mark", "state"
        )
    )


# --- Quizzes and starting ---------------------------------------------------------------


def test_the_quiz_list_shows_open_quizzes_my_record_and_the_daily_quiz(api, member, quiz):
    fixed_quiz([], title="未发布的测验", is_published=False)
    # Until beat (or a member's start) makes today's quiz, the list says so and makes nothing.
    assert api.get(url("quizzes")).json()["daily"] is None
    assert not Quiz.objects.filter(kind=Quiz.Kind.DAILY).exists()
    daily_quiz_make()
    body = api.get(url("quizzes")).json()
    assert [row["title"] for row in body["results"]] == ["党章知识测验"]
    row = body["results"][0]
    assert row["kind"] == Quiz.Kind.TOPIC
    assert row["time_limit_minutes"] == 20
    assert (row["attempts_used"], row["attempts_left"], row["best_score"]) == (0, 1, None)
    assert row["attempt_in_progress"] is None
    assert body["daily"]["kind"] == Quiz.Kind.DAILY
    assert body["daily"]["attempts_left"] == 1

    attempt = attempt_start(quiz=quiz, member=member)
    row = api.get(url("quizzes")).json()["results"][0]
    assert (row["attempts_used"], row["attempts_left"]) == (1, 0)
    assert row["attempt_in_progress"] == row["latest_attempt"] == attempt.pk


def test_starting_returns_the_new_attempt_and_starting_again_resumes_it(api, member, quiz):
    first = api.post(url("start", quiz.pk))
    assert first.status_code == 201
    body = first.json()
    assert first["Location"] == url("attempt", body["id"])
    assert body["state"] == Attempt.State.IN_PROGRESS
    assert body["quiz"]["title"] == "党章知识测验"
    assert [q["position"] for q in body["questions"]] == [1, 2, 3, 4]
    assert body["question_count"] == 4
    assert 1190 <= body["seconds_left"] <= 1200
    again = api.post(url("start", quiz.pk))
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert Attempt.objects.filter(member=member).count() == 1


def test_an_unpublished_quiz_is_not_found(api, member, bank):
    hidden = fixed_quiz([bank["single"]], is_published=False)
    response = api.post(url("start", hidden.pk))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到。"}
    assert not Attempt.objects.exists()


def test_no_attempts_left_is_a_conflict_in_the_members_language(api, member, quiz):
    attempt_start(quiz=quiz, member=member)
    api.post(url("submit", Attempt.objects.get().pk))
    refused = api.post(url("start", quiz.pk))
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_attempts_left"
    with translation.override("zh-hans"):
        expected = translation.gettext("You have used all your attempts at this quiz.")
    assert refused.json()["detail"] == expected
    english = api.post(url("start", quiz.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "You have used all your attempts at this quiz."
    assert Attempt.objects.count() == 1


def test_daily_quiz_and_challenge_start_from_their_own_urls(api, member, db):
    for n in range(6):
        question_create(single_choice(stem=f"第{n}题：党的根本宗旨是什么？"))
    daily = api.post(url("daily_start"))
    assert daily.status_code == 201
    assert daily.json()["quiz"]["kind"] == Quiz.Kind.DAILY
    assert daily.json()["feedback_each"] is True
    challenge = api.post(url("challenge_start"))
    assert challenge.status_code == 201
    body = challenge.json()
    assert body["quiz"]["kind"] == Quiz.Kind.CHALLENGE
    # One question at a time: the app cannot read ahead in a challenge.
    assert [q["position"] for q in body["questions"]] == [1]
    assert body["question_count"] == 6


# --- Reading attempts -------------------------------------------------------------------


def test_my_attempts_are_listed_newest_first_and_filter_by_state(api, member, quiz, bank):
    older = attempt_start(quiz=quiz, member=member)
    api.post(url("submit", older.pk))
    newer = attempt_start(quiz=fixed_quiz([bank["single"]], title="第二个测验"), member=member)
    body = api.get(url("attempts")).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["results"][1]["state"] == Attempt.State.SUBMITTED
    assert body["results"][1]["question_count"] == 4
    assert "questions" not in body["results"][0]
    in_progress = api.get(url("attempts"), {"state": "in_progress"}).json()
    assert [row["id"] for row in in_progress["results"]] == [newer.pk]
    bad = api.get(url("attempts"), {"state": "paused"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and "state" in bad.json()["fields"]


def test_an_attempt_shows_its_questions_and_the_servers_clock(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    body = api.get(url("attempt", attempt.pk)).json()
    assert body["deadline"] is not None
    assert 0 < body["seconds_left"] <= 1200
    assert body["review_allowed"] is False
    assert {q["type"] for q in body["questions"]} == {
        "single",
        "multiple",
        "true_false",
        "fill_blank",
    }
    fill = next(q for q in body["questions"] if q["type"] == "fill_blank")
    assert fill["blank_count"] == 1 and fill["stem_parts"] == ["中共一大最后在", "的游船上闭幕。"]


def test_reading_an_attempt_past_its_deadline_submits_the_saved_answers(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    put_answer(api, attempt, 1, right_answer(snapshot_at(attempt, 1)), 1)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now())
    body = api.get(url("attempt", attempt.pk)).json()
    assert body["state"] == Attempt.State.SUBMITTED
    assert body["finished_by"] == Attempt.FinishedBy.DEADLINE
    assert body["correct_count"] == 1
    assert body["seconds_left"] is None


# --- Answers never leak before submitting -----------------------------------------------


def test_answers_and_explanations_are_absent_from_every_response_before_submit(api, member, quiz):
    started = api.post(url("start", quiz.pk))
    assert_no_answers(started.content.decode())
    assert_options_carry_no_marks(started.json())
    attempt = Attempt.objects.get(member=member)

    # Wrong answers, so that the member's own saved answer cannot contain the right one.
    for position in (1, 2, 3, 4):
        saved = put_answer(api, attempt, position, wrong_answer(snapshot_at(attempt, position)), 1)
        assert saved.status_code == 200, saved.content
        assert saved.json()["stale"] is False
        assert_no_answers(saved.content.decode())

    detail = api.get(url("attempt", attempt.pk))
    assert_options_carry_no_marks(detail.json())
    assert all(q["answered"] for q in detail.json()["questions"])
    assert_no_answers(detail.content.decode())
    for listing in (url("attempts"), url("quizzes")):
        assert_no_answers(api.get(listing).content.decode())
    refused_check = check(api, attempt, 1, right_answer(snapshot_at(attempt, 1)))
    assert refused_check.status_code == 400
    assert refused_check.json()["code"] == "no_feedback"
    assert_no_answers(refused_check.content.decode())


def test_after_submit_the_review_carries_answers_and_explanations(api, member, quiz, bank):
    attempt = attempt_start(quiz=quiz, member=member)
    for item in attempt.questions.all():
        put_answer(api, attempt, item.position, wrong_answer(item.snapshot), 1)
    submitted = api.post(url("submit", attempt.pk))
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["state"] == Attempt.State.SUBMITTED and body["review_allowed"] is True
    raw = submitted.content.decode()
    for explanation in EXPLANATIONS.values():
        assert explanation in raw
    assert FILL_ANSWER in raw
    right_id = next(c.pk for c in bank["single"].choices.all() if c.is_correct)
    single = next(q for q in body["questions"] if q["type"] == "single")
    assert single["feedback"]["correct_option_ids"] == [right_id]
    assert single["feedback"]["correct"] is False
    assert api.get(url("attempt", attempt.pk)).json()["questions"] == body["questions"]


@pytest.mark.parametrize(
    ("review", "closes_in_days"),
    [(Quiz.Review.NEVER, None), (Quiz.Review.AFTER_CLOSE, 3)],
)
def test_a_review_policy_that_forbids_it_keeps_answers_hidden_after_submit(
    api, member, quiz, review, closes_in_days
):
    quiz.review = review
    if closes_in_days:
        quiz.closes_at = timezone.now() + datetime.timedelta(days=closes_in_days)
    quiz.save()
    attempt = attempt_start(quiz=quiz, member=member)
    submitted = api.post(url("submit", attempt.pk))
    assert submitted.status_code == 200
    assert submitted.json()["review_allowed"] is False
    assert submitted.json()["questions"] == []
    assert_no_answers(submitted.content.decode())
    assert_no_answers(api.get(url("attempt", attempt.pk)).content.decode())


def test_after_each_feedback_shows_only_the_checked_question(api, member, db):
    explanations = [f"每日解析{n}：见学习材料第{n}章。" for n in range(5)]
    for n, explanation in enumerate(explanations):
        question_create(
            dataclasses.replace(
                single_choice(stem=f"每日第{n}题：党的性质是什么？"), explanation=explanation
            )
        )
    attempt = Attempt.objects.get(pk=api.post(url("daily_start")).json()["id"])
    first = attempt.questions.get(position=1)
    checked = check(api, attempt, 1, right_answer(first.snapshot))
    assert checked.status_code == 200, checked.content
    verdict = checked.json()
    assert verdict["correct"] is True and verdict["finished"] is False
    assert verdict["feedback"]["explanation"] == first.snapshot["explanation"]
    assert verdict["attempt"]["state"] == Attempt.State.IN_PROGRESS

    detail = api.get(url("attempt", attempt.pk))
    questions = detail.json()["questions"]
    assert "feedback" in questions[0]
    assert all("feedback" not in q for q in questions[1:])
    raw = detail.content.decode()
    for explanation in explanations:
        assert (explanation in raw) == (explanation == first.snapshot["explanation"])
    again = check(api, attempt, 1, wrong_answer(first.snapshot))
    assert again.status_code == 409 and again.json()["code"] == "locked"


def test_a_challenge_is_answered_in_order_and_ends_at_a_wrong_answer(api, member, db):
    for n in range(4):
        question_create(single_choice(stem=f"挑战第{n}题：党的最高理想是什么？"))
    attempt = Attempt.objects.get(pk=api.post(url("challenge_start")).json()["id"])
    ahead = check(api, attempt, 3, right_answer(snapshot_at(attempt, 3)))
    assert ahead.status_code == 409 and ahead.json()["code"] == "out_of_order"
    wrong = check(api, attempt, 1, wrong_answer(snapshot_at(attempt, 1)))
    assert wrong.status_code == 200
    assert wrong.json()["finished"] is True
    assert wrong.json()["attempt"]["finished_by"] == Attempt.FinishedBy.CHALLENGE


# --- Saving -----------------------------------------------------------------------------


def test_a_stale_save_changes_nothing_and_says_so(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    newer = right_answer(snapshot_at(attempt, 1))
    first = put_answer(api, attempt, 1, newer, 3)
    assert first.status_code == 200
    assert (first.json()["stale"], first.json()["seq"]) == (False, 3)
    before = saved_state(attempt)
    stale = put_answer(api, attempt, 1, wrong_answer(snapshot_at(attempt, 1)), 2)
    assert stale.status_code == 200
    assert stale.json() == {**first.json(), "stale": True}
    assert stale.json()["response"] == newer
    assert saved_state(attempt) == before


def test_clearing_an_answer_with_null(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    put_answer(api, attempt, 2, right_answer(snapshot_at(attempt, 2)), 1)
    cleared = put_answer(api, attempt, 2, None, 2)
    assert cleared.status_code == 200
    assert cleared.json()["response"] is None
    assert attempt.questions.get(position=2).response is None


def test_a_save_after_the_deadline_is_refused_and_changes_nothing(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now())
    before = saved_state(attempt)
    refused = put_answer(api, attempt, 1, right_answer(snapshot_at(attempt, 1)), 1)
    assert refused.status_code == 409
    assert refused.json()["code"] == "time_up" and refused.json()["detail"]
    assert saved_state(attempt) == before


def test_a_save_to_a_submitted_attempt_or_a_missing_question_is_refused(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    missing = put_answer(api, attempt, 9, {"value": True}, 1)
    assert missing.status_code == 404 and missing.json()["code"] == "no_question"
    api.post(url("submit", attempt.pk))
    before = saved_state(attempt)
    refused = put_answer(api, attempt, 1, right_answer(snapshot_at(attempt, 1)), 5)
    assert refused.status_code == 409 and refused.json()["code"] == "submitted"
    assert saved_state(attempt) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "non_field_errors"),
        ({}, "response"),
        ({"response": None}, "seq"),
        ({"response": None, "seq": "3"}, "seq"),
        ({"response": None, "seq": 2.5}, "seq"),
        ({"response": None, "seq": True}, "seq"),
        ({"response": None, "seq": 0}, "seq"),
        ({"response": "B", "seq": 1}, "response"),
        ({"response": ["B"], "seq": 1}, "response"),
    ],
)
def test_a_malformed_save_gets_a_field_error_and_writes_nothing(api, member, quiz, body, field):
    attempt = attempt_start(quiz=quiz, member=member)
    before = saved_state(attempt)
    response = api.put(url("answer", attempt.pk, 1), body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert error["detail"]
    assert saved_state(attempt) == before


def test_a_save_that_is_not_json_or_does_not_fit_the_question_is_refused(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    before = saved_state(attempt)
    answer = url("answer", attempt.pk, 1)
    not_json = api.put(answer, "{{{", content_type="application/json")
    assert not_json.status_code == 400 and not_json.json()["code"] == "parse_error"
    form = api.put(answer, "response=B&seq=1", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    no_such_option = put_answer(api, attempt, 1, {"choices": ["B"]}, 1)
    assert no_such_option.status_code == 400
    assert no_such_option.json()["code"] == "invalid" and no_such_option.json()["detail"]
    assert saved_state(attempt) == before


def test_a_check_or_practice_without_an_answer_is_refused(api, member, db):
    question = question_create(single_choice(stem="每日一题：党的组织原则是什么？"))
    book_wrong_answer(member_id=member.pk, question_id=question.pk, at=timezone.now())
    entry = WrongAnswer.objects.get(member=member)
    attempt = Attempt.objects.get(pk=api.post(url("daily_start")).json()["id"])
    before = saved_state(attempt)
    for body in ({}, {"response": None}, {"response": "A"}):
        for path in (url("check", attempt.pk, 1), url("wrong_answer_practise", entry.pk)):
            refused = api.post(path, body, format="json")
            assert refused.status_code == 400, (path, body)
            assert refused.json()["detail"]
    assert saved_state(attempt) == before
    entry.refresh_from_db()
    assert (entry.wrong_count, entry.correct_streak) == (1, 0)


# --- Submitting -------------------------------------------------------------------------


def test_submitting_twice_returns_the_same_result_and_awards_points_once(api, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    for item in attempt.questions.all():
        put_answer(api, attempt, item.position, right_answer(item.snapshot), 1)
    first = api.post(url("submit", attempt.pk))
    second = api.post(url("submit", attempt.pk))
    assert first.status_code == second.status_code == 200
    assert first.json()["score"] == second.json()["score"] == "4.00"
    assert first.json()["points"] == second.json()["points"] == 10
    assert PointsEntry.objects.filter(member=member).count() == 1
    row = api.get(url("quizzes")).json()["results"][0]
    assert (row["attempts_left"], row["best_score"]) == (0, "4.00")


def test_the_quiz_list_shows_my_best_score(api, member, bank):
    quiz = fixed_quiz(list(bank.values()), attempts_allowed=0)
    for right in (True, False):
        attempt = attempt_start(quiz=quiz, member=member)
        for item in attempt.questions.all():
            answer = right_answer(item.snapshot) if right else wrong_answer(item.snapshot)
            put_answer(api, attempt, item.position, answer, 1)
        api.post(url("submit", attempt.pk))
    row = api.get(url("quizzes")).json()["results"][0]
    assert (row["attempts_used"], row["attempts_left"], row["best_score"]) == (2, None, "4.00")


# --- Another member's attempt and book ----------------------------------------------------


def test_another_members_attempt_is_not_found_and_stays_as_it_was(member, other, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    intruder = signed_in(other)
    before = saved_state(attempt)
    answer = right_answer(snapshot_at(attempt, 1))
    responses = [
        intruder.get(url("attempt", attempt.pk)),
        put_answer(intruder, attempt, 1, answer, 1),
        check(intruder, attempt, 1, answer),
        intruder.post(url("submit", attempt.pk)),
    ]
    for response in responses:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert_no_answers(response.content.decode())
    assert intruder.get(url("attempts")).json()["count"] == 0
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.IN_PROGRESS
    assert saved_state(attempt) == before


def test_another_members_wrong_answer_entry_is_not_found_and_stays(member, other, bank):
    book_wrong_answer(member_id=member.pk, question_id=bank["single"].pk, at=timezone.now())
    entry = WrongAnswer.objects.get(member=member)
    intruder = signed_in(other)
    right_id = next(c.pk for c in bank["single"].choices.all() if c.is_correct)
    practised = intruder.post(
        url("wrong_answer_practise", entry.pk), {"response": {"choices": [right_id]}}, format="json"
    )
    removed = intruder.delete(url("wrong_answer", entry.pk))
    assert practised.status_code == removed.status_code == 404
    assert intruder.get(url("wrong_answers")).json()["count"] == 0
    entry.refresh_from_db()
    assert (entry.correct_streak, entry.removed_at) == (0, None)


# --- Wrong-answer book ------------------------------------------------------------------


def test_the_wrong_answer_book_lists_practises_and_masters(api, member, quiz, bank):
    attempt = attempt_start(quiz=quiz, member=member)
    for item in attempt.questions.all():
        put_answer(api, attempt, item.position, wrong_answer(item.snapshot), 1)
    api.post(url("submit", attempt.pk))
    book = api.get(url("wrong_answers"))
    assert book.json()["count"] == 4
    assert_no_answers(book.content.decode())
    entry = WrongAnswer.objects.get(member=member, question=bank["single"])
    row = next(r for r in book.json()["results"] if r["id"] == entry.pk)
    assert row["question"]["stem"] == bank["single"].stem
    assert row["category"] == "党史"
    choices = list(bank["single"].choices.all())
    right_id = next(c.pk for c in choices if c.is_correct)
    wrong_id = next(c.pk for c in choices if not c.is_correct)
    practise = url("wrong_answer_practise", entry.pk)
    served = row["served"]  # the token the list served the question with

    def answer(choice_id: int) -> Any:
        return api.post(
            practise, {"response": {"choices": [choice_id]}, "served": served}, format="json"
        )

    missed = answer(wrong_id).json()
    assert missed["correct"] is False
    assert missed["correct_option_ids"] == [right_id]
    assert missed["explanation"] == EXPLANATIONS["single"]
    answer(right_id)
    mastered = answer(right_id).json()
    assert mastered["mastered"] is True and mastered["points"] == 1
    assert entry.pk not in [r["id"] for r in api.get(url("wrong_answers")).json()["results"]]
    closed = answer(right_id)
    assert closed.status_code == 409 and closed.json()["code"] == "closed"


def test_removing_a_question_from_the_wrong_answer_book(api, member, bank):
    book_wrong_answer(member_id=member.pk, question_id=bank["true_false"].pk, at=timezone.now())
    entry = WrongAnswer.objects.get(member=member)
    removed = api.delete(url("wrong_answer", entry.pk))
    assert removed.status_code == 204
    entry.refresh_from_db()
    assert entry.removed_at is not None
    assert api.get(url("wrong_answers")).json()["count"] == 0
    assert api.delete(url("wrong_answer", 999_999)).status_code == 404


# --- Authentication ---------------------------------------------------------------------


def test_anonymous_requests_are_refused_in_chinese_by_default(quiz):
    anonymous = APIClient()
    for path in (url("quizzes"), url("attempts"), url("wrong_answers")):
        refused = anonymous.get(path)
        assert refused.status_code in (401, 403)
        assert refused.json() == {"code": "not_authenticated", "detail": "身份认证信息未提供。"}
    english = anonymous.get(url("quizzes"), HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "Authentication credentials were not provided."
    assert anonymous.post(url("start", quiz.pk)).status_code in (401, 403)
    assert not Attempt.objects.exists()


def test_a_session_post_without_the_csrf_token_is_refused(member, quiz):
    strict = signed_in(member, enforce_csrf_checks=True)
    refused = strict.post(url("start", quiz.pk))
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert not Attempt.objects.exists()


# --- Query bounds -----------------------------------------------------------------------


def _queries_of(client: APIClient, path: str, bound: int, assert_max) -> tuple[int, dict]:
    with assert_max(bound), CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries), response.json()


def test_the_attempt_list_costs_the_same_queries_for_1_and_15_rows(
    api, member, bank, django_assert_max_num_queries
):
    question = bank["single"]
    quizzes = [fixed_quiz([question], title=f"测验{n}") for n in range(15)]
    attempt_start(quiz=quizzes[0], member=member)
    one, body = _queries_of(api, url("attempts"), ATTEMPTS_QUERIES, django_assert_max_num_queries)
    assert body["count"] == 1
    for quiz in quizzes[1:]:
        attempt_start(quiz=quiz, member=member)
    many, body = _queries_of(api, url("attempts"), ATTEMPTS_QUERIES, django_assert_max_num_queries)
    assert len(body["results"]) == 15
    assert many == one


def test_the_quiz_list_costs_the_same_queries_for_1_and_15_rows(
    api, member, bank, django_assert_max_num_queries
):
    daily_quiz_make()  # made once a day; not what this bound measures
    question = bank["single"]
    first = fixed_quiz([question], title="测验0")
    attempt_start(quiz=first, member=member)
    one, body = _queries_of(api, url("quizzes"), QUIZZES_QUERIES, django_assert_max_num_queries)
    assert body["count"] == 1 and body["results"][0]["attempts_used"] == 1
    for n in range(1, 15):
        attempt_start(quiz=fixed_quiz([question], title=f"测验{n}"), member=member)
    many, body = _queries_of(api, url("quizzes"), QUIZZES_QUERIES, django_assert_max_num_queries)
    assert len(body["results"]) == 15
    assert all(row["attempts_used"] == 1 for row in body["results"])
    assert many == one


def test_the_wrong_answer_list_costs_the_same_queries_for_1_and_15_rows(
    api, member, db, django_assert_max_num_queries
):
    questions = [
        question_create(single_choice(stem=f"错题{n}：党的宗旨是什么？")) for n in range(15)
    ]
    questions.append(question_create(fill_blank()))
    now = timezone.now()
    book_wrong_answer(member_id=member.pk, question_id=questions[-1].pk, at=now)
    path = url("wrong_answers")
    one, body = _queries_of(api, path, WRONG_ANSWERS_QUERIES, django_assert_max_num_queries)
    assert body["count"] == 1 and body["results"][0]["question"]["blank_count"] == 1
    assert body["results"][0]["question"]["options"] == []
    for question in questions[:14]:
        book_wrong_answer(member_id=member.pk, question_id=question.pk, at=now)
    many, body = _queries_of(api, path, WRONG_ANSWERS_QUERIES, django_assert_max_num_queries)
    assert len(body["results"]) == 15
    singles = [row for row in body["results"] if row["question"]["type"] == "single"]
    assert len(singles) == 14
    assert all(len(row["question"]["options"]) == 4 for row in singles)
    assert many == one


def test_an_attempt_and_a_save_have_bounded_queries(
    api, member, quiz, django_assert_max_num_queries
):
    attempt = attempt_start(quiz=quiz, member=member)
    with django_assert_max_num_queries(5):
        assert api.get(url("attempt", attempt.pk)).status_code == 200
    with django_assert_max_num_queries(10):
        put_answer(api, attempt, 1, right_answer(snapshot_at(attempt, 1)), 1)


# --- Short answers in quizzes that give feedback after each question -----------------


def test_checking_a_short_answer_never_reveals_the_reference_answer_before_submit(api, member):
    question = question_create(short_answer())
    quiz = fixed_quiz([question], review=Quiz.Review.AFTER_EACH)
    attempt = attempt_start(quiz=quiz, member=member)
    checked = check(api, attempt, 1, {"text": "不知道"})
    assert checked.status_code == 400 and checked.json()["code"] == "no_feedback"
    assert question.reference_answer not in checked.content.decode()
    if checked.status_code == 200:
        # Accepted for good: the answer may not be changed now the verdict is known.
        changed = put_answer(api, attempt, 1, {"text": question.reference_answer}, 5)
        assert changed.status_code == 409


def test_a_member_who_must_change_their_password_gets_json_not_a_redirect(member, quiz):
    Member.objects.filter(pk=member.pk).update(must_change_password=True)
    member.refresh_from_db()
    response = signed_in(member).get("/api/v1/quizzes/")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_a_save_sent_before_a_check_with_seq_that_arrives_after_it_is_stale(api, member, db):
    for n in range(3):
        question_create(single_choice(stem=f"快答{n}：中国共产党成立于哪一年？"))
    attempt = Attempt.objects.get(pk=api.post(url("daily_start")).json()["id"])
    first = attempt.questions.get(position=1)
    checked = api.post(
        url("check", attempt.pk, 1),
        {"response": right_answer(first.snapshot), "seq": 4},
        format="json",
    )
    assert checked.status_code == 200, checked.content
    late = put_answer(api, attempt, 1, wrong_answer(first.snapshot), 3)
    assert late.status_code == 200, late.content
    assert late.json()["stale"] is True and late.json()["seq"] == 4
    assert late.json()["checked"] is True
    assert late.json()["response"] == right_answer(first.snapshot)
    newer = put_answer(api, attempt, 1, wrong_answer(first.snapshot), 5)
    assert newer.status_code == 409 and newer.json()["code"] == "locked"
    bad = api.post(
        url("check", attempt.pk, 2),
        {"response": right_answer(first.snapshot), "seq": "x"},
        format="json",
    )
    assert bad.status_code == 400
