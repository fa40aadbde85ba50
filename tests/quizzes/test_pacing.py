"""A harvesting script against practice and checks: served first, read first, human rate.

Each test is the project's own scripted client: plain HTTP with one member's password,
as the answer-key harvesters of study apps work (docs/integrity.md). The clock is
frozen and moved by hand, so reading times and windows pass without waiting.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from quizzes.models import Question, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_start
from quizzes.taking.pacing import reading_seconds, served_token
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, single_choice, true_false
from tests.factories.quizzes import fixed_quiz, right_answer

pytestmark = [pytest.mark.django_db, pytest.mark.paced]

START = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def member(tree):
    return MemberFactory(username="harvester", organization=tree.branch_a1)


@pytest.fixture
def web(client: Client, member) -> Client:
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def bank(db) -> list[Question]:
    return [
        question_create(single_choice(stem=f"第{number}题：党的根本宗旨是什么？"))
        for number in range(12)
    ]


def _served_page(web: Client, category_id: int, index: int) -> tuple[int, str]:
    """What the script reads off a practice page: the question's id and its token."""
    page = web.get(reverse("quizzes:practice", args=[category_id]), {"i": index})
    html = page.content.decode()
    question = re.search(r'data-question="(\d+)"', html)
    served = re.search(r'data-served="([^"]+)"', html)
    assert question and served
    return int(question.group(1)), served.group(1)


def _guess(question_id: int) -> dict[str, Any]:
    """Any well-formed answer: the script guesses, the verdict tells it the right one."""
    question = Question.objects.get(pk=question_id)
    if question.type == Question.Type.TRUE_FALSE:
        return {"value": False}
    return {"choices": [question.choices.order_by("pk").first().pk]}


def _ask(web: Client, category_id: int, question_id: int, served: str | None) -> Any:
    body: dict[str, Any] = {"question": question_id, "response": _guess(question_id)}
    if served is not None:
        body["served"] = served
    return web.post(
        reverse("quizzes:practice", args=[category_id]),
        data=json.dumps(body),
        content_type="application/json",
    )


def _no_answer_in(response: Any) -> None:
    body = response.json()
    assert body["ok"] is False
    assert "correct_option_ids" not in body and "correct_answer" not in body


def test_reading_time_grows_with_the_question_and_has_a_floor(settings) -> None:
    settings.DANGJIAN_READING_CHARS_PER_SECOND = 25
    settings.DANGJIAN_READING_FLOOR_SECONDS = 1.0
    short = {"stem": "对吗？", "choices": []}
    long = {
        "stem": "<p>" + "中国共产党" * 20 + "</p>",
        "choices": [{"text": "选项内容" * 5} for _ in range(4)],
    }
    assert reading_seconds(short) == 1.0
    assert reading_seconds(long) == pytest.approx((100 + 80) / 25)


def test_a_verdict_needs_the_token_the_page_served_to_this_member(web, clock, bank, tree):
    category_id = bank[0].category_id
    question_id, served = _served_page(web, category_id, 0)
    clock.shift(30)
    other_id = next(q.pk for q in bank if q.pk != question_id)
    someone_else = MemberFactory(username="other", organization=tree.branch_a1)

    for token, asked in (
        (None, question_id),  # never served
        ("not-a-token", question_id),  # made up
        (served[:-2] + "xx", question_id),  # tampered with
        (served, other_id),  # served for another question
        (served_token(someone_else, question_id), question_id),  # another member's
    ):
        refused = _ask(web, category_id, asked, token)
        assert refused.status_code == 409 and refused.json()["code"] == "not_served"
        _no_answer_in(refused)
    answered = _ask(web, category_id, question_id, served)
    assert answered.status_code == 200 and answered.json()["ok"] is True


def test_a_token_expires(web, clock, bank, settings):
    category_id = bank[0].category_id
    question_id, served = _served_page(web, category_id, 0)
    clock.shift(settings.DANGJIAN_SERVED_MAX_AGE.total_seconds() + 1)
    refused = _ask(web, category_id, question_id, served)
    assert refused.status_code == 409 and refused.json()["code"] == "not_served"


def test_no_verdict_before_the_question_could_be_read(web, clock, bank):
    category_id = bank[0].category_id
    question_id, served = _served_page(web, category_id, 0)
    needed = reading_seconds({"stem": bank[0].stem, "choices": [{"text": "1919"}] * 4})
    assert needed > 1
    clock.shift(needed / 2)
    early = _ask(web, category_id, question_id, served)
    assert early.status_code == 429 and early.json()["code"] == "too_soon"
    assert early["Retry-After"] == "1"
    assert early.json()["retry_after"] == pytest.approx(needed / 2, abs=0.02)
    _no_answer_in(early)
    clock.shift(needed / 2)
    assert _ask(web, category_id, question_id, served).json()["ok"] is True


def test_a_harvester_that_reads_at_the_pace_allowed_is_stopped_at_the_limit(
    web, clock, bank, settings
):
    """Walking practice ?i=0…N, waiting out each reading time: a few dozen verdicts, no more."""
    settings.DANGJIAN_VERDICT_LIMIT = 8
    category_id = bank[0].category_id
    verdicts, refusal = 0, None
    for index in range(len(bank)):
        question_id, served = _served_page(web, category_id, index)
        clock.shift(10)
        response = _ask(web, category_id, question_id, served)
        if response.status_code != 200:
            refusal = response
            break
        verdicts += 1
    assert verdicts == 8
    assert refusal is not None and refusal.status_code == 429
    assert refusal.json()["code"] == "throttled"
    assert "休息" in refusal.json()["message"]
    # The window is ten minutes from the first verdict, 10 s after serving question 0.
    assert int(refusal["Retry-After"]) == 600 - 8 * 10
    _no_answer_in(refusal)
    # Refused requests do not add to the wait; once the window has passed, practice goes on.
    clock.shift(int(refusal["Retry-After"]))
    question_id, served = _served_page(web, category_id, 9)
    clock.shift(10)
    assert _ask(web, category_id, question_id, served).json()["ok"] is True


def test_the_limit_counts_practice_the_book_and_checks_together_web_and_api(
    web, member, clock, settings
):
    settings.DANGJIAN_VERDICT_LIMIT = 2
    question = question_create(true_false(stem="党的最高理想是实现共产主义。"))
    entry = WrongAnswer.objects.create(member=member, question=question, last_wrong_at=START)
    api = APIClient()
    api.force_authenticate(member)
    listed = api.get(reverse("quizzes_api:wrong_answers")).json()["results"]
    clock.shift(10)
    practised = api.post(
        reverse("quizzes_api:wrong_answer_practise", args=[entry.pk]),
        {"response": {"value": False}, "served": listed[0]["served"]},
        format="json",
    )
    assert practised.status_code == 200
    category_id, served = question.category_id, served_token(member, question.pk)
    clock.shift(10)
    assert _ask(web, category_id, question.pk, served).status_code == 200
    attempt = attempt_start(
        quiz=fixed_quiz([question], review=Quiz.Review.AFTER_EACH), member=member
    )
    clock.shift(10)
    item = attempt.questions.get()
    checked = api.post(
        reverse("quizzes_api:check", args=[attempt.pk, 1]),
        {"response": right_answer(item.snapshot)},
        format="json",
    )
    assert checked.status_code == 429 and checked.json()["code"] == "throttled"
    assert checked["Retry-After"]
    item.refresh_from_db()
    assert item.mark is None and item.response is None  # the refused check changed nothing


def test_a_check_in_an_attempt_waits_for_reading_since_the_start_and_the_last_verdict(
    web, member, clock
):
    questions = [
        question_create(single_choice(stem=f"第{number}题：中国共产党成立于哪一年？"))
        for number in range(2)
    ]
    quiz = fixed_quiz(questions, review=Quiz.Review.AFTER_EACH)
    started = web.post(reverse("quizzes:start", args=[quiz.pk]))
    assert started.status_code == 302
    attempt = quiz.attempts.get(member=member)
    items = list(attempt.questions.order_by("position"))
    needed = reading_seconds(items[0].snapshot)

    def check(item: Any) -> Any:
        return web.post(
            reverse("quizzes:check", args=[attempt.pk]),
            data=json.dumps({"position": item.position, "response": right_answer(item.snapshot)}),
            content_type="application/json",
        )

    early = check(items[0])
    assert early.status_code == 429 and early.json()["code"] == "too_soon"
    assert "feedback" not in early.json()
    clock.shift(needed)
    assert check(items[0]).json()["ok"] is True
    # The second question is read after the first verdict, not from the start.
    early = check(items[1])
    assert early.status_code == 429 and early.json()["code"] == "too_soon"
    clock.shift(reading_seconds(items[1].snapshot))
    assert check(items[1]).json()["ok"] is True


def test_the_api_check_says_how_long_to_wait(member, clock):
    question = question_create(single_choice())
    attempt = attempt_start(
        quiz=fixed_quiz([question], review=Quiz.Review.AFTER_EACH), member=member
    )
    api = APIClient()
    api.force_authenticate(member)
    item = attempt.questions.get()
    early = api.post(
        reverse("quizzes_api:check", args=[attempt.pk, 1]),
        {"response": right_answer(item.snapshot)},
        format="json",
    )
    assert early.status_code == 429
    assert early.json()["code"] == "too_soon" and early.json()["retry_after"] > 0
    assert int(early["Retry-After"]) >= 1


def test_the_api_gives_no_verdict_without_the_served_token(member, clock):
    question = question_create(true_false(stem="党的最高理想是实现共产主义。"))
    entry = WrongAnswer.objects.create(member=member, question=question, last_wrong_at=START)
    api = APIClient()
    api.force_authenticate(member)
    before = (entry.correct_streak, entry.wrong_count)
    clock.shift(30)
    url = reverse("quizzes_api:wrong_answer_practise", args=[entry.pk])
    for served in (None, "x" * 201, served_token(member, question.pk + 1)):
        body: dict[str, Any] = {"response": {"value": False}}
        if served is not None:
            body["served"] = served
        refused = api.post(url, body, format="json")
        assert refused.status_code in (400, 409), refused.content
        assert "correct_option_ids" not in refused.json()
    entry.refresh_from_db()
    assert (entry.correct_streak, entry.wrong_count) == before
