"""A fast member on a 390×844 phone: confirming an answer the instant it is chosen or typed.

The page saves each answer as it changes and the check grades one for good; the two must
not race. These journeys click 确认答案 with no pause after choosing or typing, and hold a
save in flight while the check is sent, then assert that no request was refused (no 409,
no other 4xx/5xx), the console stayed clean, and the server graded the answer on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from quizzes.models import Attempt, AttemptQuestion, Question, Quiz
from quizzes.taking.attempts import attempt_start
from quizzes.taking.daily import challenge_quiz
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_quizzes import member_in_a_branch
from tests.factories.questions import fill_blank, multiple_choice, question_create, single_choice
from tests.factories.quizzes import fixed_quiz

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


class Traffic:
    """Every response and console message of a page, to assert none was a failure."""

    def __init__(self, page: Any) -> None:
        self.refused: list[str] = []
        self.console_errors: list[str] = []
        self.checks: list[dict[str, Any]] = []
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.refused.append(f"{response.status} {response.request.method} {response.url}")
        if response.url.endswith("/check/"):
            self.checks.append(response.request.post_data_json)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.console_errors.append(message.text)

    def assert_clean(self) -> None:
        assert self.refused == []
        assert self.console_errors == []


def after_each_quiz() -> tuple[Quiz, list[Question]]:
    questions = [
        question_create(single_choice(stem=f"快答第{number}题：中国共产党成立于哪一年？"))
        for number in range(1, 4)
    ]
    questions.append(question_create(fill_blank(stem="快答填空：中国共产党成立于____年。")))
    questions.append(question_create(multiple_choice(stem="快答多选：下列属于“四个意识”的有？")))
    quiz = fixed_quiz(
        questions,
        title="快速作答测验",
        review=Quiz.Review.AFTER_EACH,
        shuffle_options=True,
        attempts_allowed=0,
    )
    return quiz, questions


def option_ids(fieldset: Any) -> list[int]:
    return [
        int(value)
        for value in fieldset.locator("input").evaluate_all(
            "inputs => inputs.map(input => input.value)"
        )
    ]


def test_confirming_at_once_after_choosing_or_typing_refuses_nothing(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    quiz, _questions = after_each_quiz()
    page = new_page(MOBILE)
    traffic = Traffic(page)
    log_in(page, member.username)
    attempt = attempt_start(quiz=quiz, member=member)
    page.goto(reverse("quizzes:attempt", args=[attempt.pk]))
    items = {item.position: item for item in attempt.questions.all()}
    shown: dict[int, Any] = {}
    for position, item in sorted(items.items()):
        fieldset = page.locator(f"fieldset#q{position}")
        kind = item.snapshot["type"]
        if kind == Question.Type.FILL_BLANK:
            fieldset.locator("[data-blank]").fill("1921")
            shown[position] = {"blanks": ["1921"]}
        elif kind == Question.Type.MULTIPLE:
            first, second = option_ids(fieldset)[:2]
            fieldset.locator(f"input[value='{first}']").check()
            fieldset.locator(f"input[value='{second}']").check()
            shown[position] = {"choices": sorted([first, second])}
        else:
            # Changes their mind twice, then confirms at once: the last choice counts.
            ids = option_ids(fieldset)
            for choice in (ids[0], ids[1], ids[position % len(ids)]):
                fieldset.locator(f"input[value='{choice}']").check()
            shown[position] = {"choices": [ids[position % len(ids)]]}
        confirm = fieldset.get_by_role("button", name="确认答案")
        # An impatient double tap on one of them sends one check.
        if position == 3:
            confirm.dblclick()
        else:
            confirm.click()
        fieldset.locator(".quiz-verdict").wait_for()
    # A save left waiting for its pause would be sent now; give it the time to show up.
    page.wait_for_timeout(1200)
    screenshot(page, "quiz-fast-answers-phone")
    assert_no_horizontal_scroll(page)
    traffic.assert_clean()
    for position, item in items.items():
        item.refresh_from_db()
        response = item.response
        if "choices" in response:
            response = {"choices": sorted(response["choices"])}
        assert response == shown[position], position
        assert item.mark is not None
    assert len(traffic.checks) == len(items)
    # The answers are kept through the submit.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    traffic.assert_clean()


def test_a_save_still_in_flight_when_the_check_is_sent_changes_nothing(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    """The save of a first choice is held back in the network until after the member has
    chosen again and confirmed; the check grades the choice on screen and nothing fails."""
    member = member_in_a_branch()
    quiz, _questions = after_each_quiz()
    page = new_page(MOBILE)
    traffic = Traffic(page)
    log_in(page, member.username)
    attempt = attempt_start(quiz=quiz, member=member)
    page.goto(reverse("quizzes:attempt", args=[attempt.pk]))
    held: list[Any] = []
    page.route("**/save/", lambda route: held.append(route))
    item = attempt.questions.get(position=1)
    fieldset = page.locator("fieldset#q1")
    first, second = option_ids(fieldset)[:2]
    with page.expect_request("**/save/"):
        fieldset.locator(f"input[value='{first}']").check()
    fieldset.locator(f"input[value='{second}']").check()
    fieldset.get_by_role("button", name="确认答案").click()
    # Whatever the page sends now, the slow save of the first choice arrives last.
    page.wait_for_timeout(300)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/save/")
    fieldset.locator(".quiz-verdict").wait_for()
    page.wait_for_timeout(600)
    traffic.assert_clean()
    item.refresh_from_db()
    assert item.response == {"choices": [second]}
    assert [body["response"] for body in traffic.checks] == [{"choices": [second]}]
    verdict = fieldset.locator(".quiz-verdict__state").inner_text().strip()
    assert verdict == ("正确" if item.state == AttemptQuestion.State.CORRECT else "错误")
    screenshot(page, "quiz-fast-answer-held-save-phone")


def test_a_fast_challenge_and_fast_practice_refuse_nothing(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    questions = [
        question_create(single_choice(stem=f"挑战快答第{number}题：中国共产党成立于哪一年？"))
        for number in range(1, 4)
    ]
    Quiz.objects.filter(pk=challenge_quiz().pk).update(min_seconds_per_question=0)
    page = new_page(MOBILE)
    traffic = Traffic(page)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    page.get_by_role("button", name="开始挑战").click()
    page.wait_for_url("**/quiz/attempts/*/")
    attempt = Attempt.objects.get(member=member)
    for position in (1, 2):
        item = attempt.questions.get(position=position)
        right = next(c["id"] for c in item.snapshot["choices"] if c["is_correct"])
        fieldset = page.locator(f"fieldset#q{position}")
        fieldset.locator(f"input[value='{right}']").check()
        fieldset.get_by_role("button", name="确认答案").click()
        page.get_by_role("link", name="下一题").click()
        page.locator(f"fieldset#q{position + 1}").wait_for()
    screenshot(page, "quiz-fast-challenge-phone")
    assert_no_horizontal_scroll(page)
    traffic.assert_clean()
    category = questions[0].category
    for index in range(3):
        page.goto(reverse("quizzes:practice", args=[category.pk]) + f"?i={index}")
        fieldset = page.locator("fieldset")
        fieldset.locator("input").first.check()
        fieldset.get_by_role("button", name="确认答案").click()
        fieldset.locator(".quiz-verdict").wait_for()
    page.wait_for_timeout(300)
    screenshot(page, "quiz-fast-practice-phone")
    assert_no_horizontal_scroll(page)
    traffic.assert_clean()


@pytest.mark.paced
def test_confirming_before_the_question_could_be_read_waits_and_then_shows_the_verdict(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    """With the production reading times: the page waits them out, the member sees no error."""
    member = member_in_a_branch()
    quiz, _questions = after_each_quiz()
    page = new_page(MOBILE)
    statuses: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda response: (
            statuses.append((response.status, response.url))
            if response.request.method == "POST"
            else None
        ),
    )
    log_in(page, member.username)
    category = _questions[0].category
    page.goto(reverse("quizzes:practice", args=[category.pk]) + "?i=0")
    fieldset = page.locator("fieldset")
    fieldset.locator("input").first.check()
    fieldset.get_by_role("button", name="确认答案").click()
    fieldset.locator(".quiz-verdict").wait_for(timeout=15_000)
    screenshot(page, "quiz-paced-practice-phone")
    attempt = attempt_start(quiz=quiz, member=member)
    page.goto(reverse("quizzes:attempt", args=[attempt.pk]))
    first = page.locator("fieldset#q1")
    first.locator("input").first.check()
    first.get_by_role("button", name="确认答案").click()
    first.locator(".quiz-verdict").wait_for(timeout=15_000)
    assert_no_horizontal_scroll(page)
    assert attempt.questions.get(position=1).mark is not None
    # Two answers chosen first, then confirmed in a burst: each waits its turn and its
    # reading time, and both get their verdict.
    for position in (2, 3):
        page.locator(f"fieldset#q{position} input").first.check()
    for position in (2, 3):
        page.locator(f"fieldset#q{position}").get_by_role("button", name="确认答案").click()
    for position in (2, 3):
        page.locator(f"fieldset#q{position} .quiz-verdict").wait_for(timeout=20_000)
    assert attempt.questions.filter(position__in=(2, 3), mark__isnull=False).count() == 2
    refused = [(status, url) for status, url in statuses if status >= 400]
    # Confirmations asked for too soon were waited for and then answered: 429s only.
    assert {status for status, _url in refused} == {429}, refused
    assert any(url.endswith("/check/") for _status, url in refused)
    state = page.locator("[data-save-state]")
    assert "is-failed" not in (state.get_attribute("class") or "")
    assert state.text_content() == ""  # "正在确认答案……" is gone with the verdict
