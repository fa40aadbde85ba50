"""Quiz journeys on a 390×844 phone: the daily quiz with points, an exam whose time runs
out while the page is open, and a reload in the middle of an exam."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.models import PointsEntry
from learning.people import services
from quizzes.models import Attempt, Question, Quiz
from quizzes.taking.daily import daily_quiz_make
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.factories.people import MemberFactory
from tests.factories.questions import bank_of_each_type, question_create, single_choice, true_false
from tests.factories.quizzes import fixed_quiz

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


def member_in_a_branch() -> Any:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    branch = services.organization_create(
        name="第一党支部", code="ZB1", kind="branch", parent=committee
    )
    return MemberFactory(username="zhanghong", display_name="张红", organization=branch)


def right_choice_text(page: Any, fieldset: Any, question_id: int, *, right: bool = True) -> None:
    """Click the right (or a wrong) option of a single-choice or true/false question."""
    question = Question.objects.get(pk=question_id)
    if question.type == Question.Type.TRUE_FALSE:
        value = "true" if question.true_false_answer == right else "false"
        fieldset.locator(f"input[value='{value}']").check()
        return
    choice = next(choice for choice in question.choices.all() if choice.is_correct == right)
    fieldset.locator(f"input[value='{choice.pk}']").check()


def test_the_daily_quiz_end_to_end_with_points(new_page: NewPage, screenshot: Screenshot) -> None:
    member = member_in_a_branch()
    for number in range(4):
        question_create(
            single_choice(stem=f"第{number + 1}题：中国共产党第一次全国代表大会在哪一年召开？")
        )
    question_create(true_false())
    # A test answers faster than a person reads; the plausibility check has its own tests.
    Quiz.objects.filter(pk=daily_quiz_make().pk).update(min_seconds_per_question=0)
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    screenshot(page, "quiz-index-phone")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="开始今日答题").click()
    page.wait_for_url("**/quiz/attempts/*/")
    attempt = Attempt.objects.get(member=member)
    questions = {item.position: item.question_id for item in attempt.questions.all()}
    for position in sorted(questions):
        fieldset = page.locator(f"fieldset#q{position}")
        # One deliberately wrong answer: it is marked wrong and shown the right one.
        right_choice_text(page, fieldset, questions[position], right=position != 2)
        fieldset.get_by_role("button", name="确认答案").click()
        fieldset.locator(".quiz-verdict").wait_for()
    assert page.locator(".quiz-verdict__state").count() == 5
    screenshot(page, "quiz-daily-feedback-phone")
    assert_no_horizontal_scroll(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    attempt.refresh_from_db()
    assert attempt.is_submitted
    earned = PointsEntry.objects.get(member=member, rule__code="daily_quiz_correct").points
    assert earned == attempt.correct_count == 4
    assert page.get_by_test_id("points-earned").inner_text().strip() == f"+{earned} 分"
    screenshot(page, "quiz-daily-result-phone")
    page.goto(reverse("quizzes:index"))
    assert "今日已完成" in page.get_by_test_id("daily-quiz").inner_text()


def exam(minutes: int) -> Quiz:
    bank = bank_of_each_type()
    return fixed_quiz(
        list(bank.values()),
        title="党章党规知识考试",
        kind=Quiz.Kind.EXAM,
        time_limit_minutes=minutes,
        pass_percent=60,
    )


def test_an_exam_whose_time_runs_out_is_submitted_with_the_saved_answers(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    quiz = exam(minutes=30)
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    page.get_by_test_id("open-quizzes").get_by_role("button", name="开始", exact=True).click()
    page.wait_for_url("**/quiz/attempts/*/")
    attempt = Attempt.objects.get(member=member, quiz=quiz)
    first = attempt.questions.get(position=1)
    right_choice_text(page, page.locator("fieldset#q1"), first.question_id)
    page.locator("fieldset#q4 input.quiz-blank").fill("1921")
    page.get_by_text("已保存").wait_for()
    screenshot(page, "quiz-exam-phone")
    assert_no_horizontal_scroll(page)
    # Move the deadline to a few seconds from now, as if 30 minutes had passed, and reload
    # so the page counts down from the server's clock.
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() + datetime.timedelta(seconds=4)
    )
    page.reload()
    page.wait_for_url("**/result/", timeout=15_000)
    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert attempt.finished_by == Attempt.FinishedBy.DEADLINE
    assert attempt.correct_count == 2
    assert "时间到" in page.get_by_test_id("result").inner_text()
    screenshot(page, "quiz-exam-timed-out-phone")


def test_a_reload_mid_exam_resumes_with_the_answers_and_the_clock(
    new_page: NewPage,
) -> None:
    member = member_in_a_branch()
    exam(minutes=20)
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    page.get_by_test_id("open-quizzes").get_by_role("button", name="开始", exact=True).click()
    page.wait_for_url("**/quiz/attempts/*/")
    url = page.url
    page.locator("fieldset#q3 label.quiz-option").nth(1).click()
    page.locator("fieldset#q4 input.quiz-blank").fill("一九二一")
    page.get_by_text("已保存").wait_for()
    page.wait_for_timeout(300)
    page.reload()
    assert page.url == url
    assert page.locator("fieldset#q3 input[value='false']").is_checked()
    assert page.locator("fieldset#q4 input.quiz-blank").input_value() == "一九二一"
    clock = page.locator("[data-clock]").inner_text()
    minutes = int(clock.split(":")[0])
    assert 18 <= minutes <= 19
    assert Attempt.objects.filter(member=member).count() == 1
    # Another phone: a new browser context with the same account resumes the same attempt.
    other = new_page(MOBILE)
    log_in(other, member.username)
    other.goto(url)
    assert other.locator("fieldset#q4 input.quiz-blank").input_value() == "一九二一"


def test_an_answer_typed_just_before_submitting_is_scored(new_page: NewPage) -> None:
    member = member_in_a_branch()
    exam(minutes=20)
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    page.get_by_test_id("open-quizzes").get_by_role("button", name="开始", exact=True).click()
    page.wait_for_url("**/quiz/attempts/*/")
    page.locator("fieldset#q4 input.quiz-blank").fill("1921")
    # No pause for the autosave: submit at once.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    attempt = Attempt.objects.get(member=member)
    assert attempt.questions.get(position=4).state == "correct"
