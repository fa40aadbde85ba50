"""The rest of the quiz section on a 390×844 phone: a challenge until the first wrong
answer, its result and the results history, the wrong-answer book practised until a
question is mastered, and practice by category."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from learning.models import PointsEntry
from quizzes.models import Attempt, Question, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_answer_check, attempt_start
from quizzes.taking.daily import challenge_quiz
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_quizzes import member_in_a_branch
from tests.factories.questions import question_create, single_choice

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


def choice_id(question_id: int, *, right: bool = True) -> int:
    """The pk of the right (or a wrong) option: the value of its radio button."""
    question = Question.objects.get(pk=question_id)
    return next(choice.pk for choice in question.choices.all() if choice.is_correct == right)


def answer(fieldset: Any, question_id: int, *, right: bool = True) -> None:
    fieldset.locator(f"input[value='{choice_id(question_id, right=right)}']").check()
    fieldset.get_by_role("button", name="确认答案").click()
    fieldset.locator(".quiz-verdict").wait_for()


def six_questions() -> list[Question]:
    return [
        question_create(single_choice(stem=f"挑战第{number}题：中国共产党成立于哪一年？"))
        for number in range(1, 7)
    ]


def test_a_challenge_ends_at_the_first_wrong_answer_and_is_in_the_history(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    six_questions()
    # A test answers faster than a person reads; the plausibility check has its own tests.
    Quiz.objects.filter(pk=challenge_quiz().pk).update(min_seconds_per_question=0)
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    page.get_by_role("button", name="开始挑战").click()
    page.wait_for_url("**/quiz/attempts/*/")
    attempt = Attempt.objects.get(member=member)
    questions = {item.position: item.question_id for item in attempt.questions.all()}
    assert len(questions) == 6
    # One question at a time: only the first is on the page.
    assert page.locator("fieldset[data-position]").count() == 1
    assert "连对：0 题" in page.get_by_test_id("streak").inner_text()
    answer(page.locator("fieldset#q1"), questions[1])
    assert page.locator("fieldset#q1 .quiz-verdict__state").inner_text().strip() == "正确"
    next_link = page.get_by_role("link", name="下一题")
    next_link.wait_for()
    screenshot(page, "quiz-challenge-first-right-phone")
    assert_no_horizontal_scroll(page)
    next_link.click()
    page.locator("fieldset#q2").wait_for()
    assert "连对：1 题" in page.get_by_test_id("streak").inner_text()
    # The question just answered stays above the next one; nothing further ahead.
    assert page.locator("fieldset[data-position]").count() == 2
    assert page.locator("fieldset#q3").count() == 0
    screenshot(page, "quiz-challenge-second-question-phone")
    assert_no_horizontal_scroll(page)
    answer(page.locator("fieldset#q2"), questions[2], right=False)
    assert page.locator("fieldset#q2 .quiz-verdict__state").inner_text().strip() == "错误"
    assert "正确答案" in page.locator("fieldset#q2 .quiz-verdict").inner_text()
    result_link = page.get_by_role("link", name="查看成绩")
    result_link.wait_for()
    screenshot(page, "quiz-challenge-wrong-answer-phone")
    assert_no_horizontal_scroll(page)
    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert attempt.finished_by == Attempt.FinishedBy.CHALLENGE
    assert attempt.correct_count == 1
    result_link.click()
    page.wait_for_url("**/result/")
    assert page.get_by_test_id("score").inner_text().strip() == "1"
    assert page.get_by_test_id("points-earned").inner_text().strip() == "+1 分"
    assert PointsEntry.objects.get(member=member, rule__code="challenge_quiz").points == 1
    screenshot(page, "quiz-challenge-result-phone")
    assert_no_horizontal_scroll(page)
    # The wrong answer went into the book; the index counts it and the best streak.
    page.goto(reverse("quizzes:index"))
    assert page.get_by_test_id("wrong-count").inner_text().strip().startswith("1")
    assert WrongAnswer.objects.filter(member=member, question_id=questions[2]).exists()

    page.goto(reverse("quizzes:history"))
    history = page.get_by_test_id("history")
    rows = history.locator("li")
    assert rows.count() == 1
    assert "挑战答题" in rows.first.inner_text()
    assert "连对 1 题" in rows.first.inner_text()
    assert "+1" in rows.first.inner_text()
    screenshot(page, "quiz-history-phone")
    assert_no_horizontal_scroll(page)
    rows.first.get_by_role("link").click()
    page.wait_for_url(f"**{reverse('quizzes:result', args=[attempt.pk])}")


def test_the_wrong_answer_book_until_a_question_is_mastered(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    six_questions()
    Quiz.objects.filter(pk=challenge_quiz().pk).update(min_seconds_per_question=0)
    attempt = attempt_start(quiz=challenge_quiz(), member=member)
    first = attempt.questions.get(position=1)
    attempt_answer_check(
        attempt=attempt,
        member=member,
        position=1,
        response={"choices": [choice_id(first.question_id, right=False)]},
    )
    entry = WrongAnswer.objects.get(member=member)
    assert entry.question_id == first.question_id
    stem = Question.objects.get(pk=first.question_id).stem

    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:wrong_book"))
    book = page.get_by_test_id("wrong-book")
    assert book.locator("li").count() == 1
    assert stem in book.inner_text()
    screenshot(page, "quiz-wrong-book-phone")
    assert_no_horizontal_scroll(page)

    book.get_by_role("link", name=stem).click()
    page.wait_for_url(f"**{reverse('quizzes:wrong_practise', args=[entry.pk])}")
    form = page.get_by_test_id("practice-form")
    assert "已连续答对：0 / 2" in page.locator("main").inner_text()
    answer(form, entry.question_id)
    assert form.locator(".quiz-verdict__state").inner_text().strip() == "正确"
    assert "已掌握" not in form.inner_text()
    screenshot(page, "quiz-wrong-practise-first-right-phone")
    assert_no_horizontal_scroll(page)
    # The only entry: "next question" leads back to the book, one right in a row.
    page.get_by_role("link", name="下一题").click()
    page.wait_for_url(f"**{reverse('quizzes:wrong_book')}")
    assert "已连对 1 次" in page.get_by_test_id("wrong-book").inner_text()

    page.goto(reverse("quizzes:wrong_practise", args=[entry.pk]))
    assert "已连续答对：1 / 2" in page.locator("main").inner_text()
    answer(form, entry.question_id)
    mastered = form.locator(".quiz-verdict__mastered")
    mastered.wait_for()
    assert "已掌握" in mastered.inner_text()
    screenshot(page, "quiz-wrong-practise-mastered-phone")
    assert_no_horizontal_scroll(page)
    entry.refresh_from_db()
    assert entry.mastered_at is not None

    page.get_by_role("link", name="下一题").click()
    page.wait_for_url(f"**{reverse('quizzes:wrong_book')}")
    assert "错题本是空的" in page.locator("main").inner_text()
    assert page.get_by_test_id("wrong-book").count() == 0
    screenshot(page, "quiz-wrong-book-empty-phone")
    assert_no_horizontal_scroll(page)
    # A mastered question is no longer practised from the book.
    response = page.goto(reverse("quizzes:wrong_practise", args=[entry.pk]))
    assert response is not None and response.status == 404


def test_practice_by_category_in_order(new_page: NewPage, screenshot: Screenshot) -> None:
    member = member_in_a_branch()
    first = question_create(
        single_choice(stem="练习第1题：中国共产党第一次全国代表大会在哪一年召开？")
    )
    second = question_create(
        single_choice(
            stem="练习第2题：中华人民共和国成立于哪一年？",
            options=("1945", "1949", "1950", "1978"),
        )
    )
    assert first.category_id == second.category_id
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:practice_index"))
    categories = page.get_by_test_id("practice-categories")
    row = categories.locator("li", has_text="党史")
    screenshot(page, "quiz-practice-index-phone")
    assert_no_horizontal_scroll(page)
    row.get_by_role("link", name="顺序练习").click()
    page.wait_for_url(f"**{reverse('quizzes:practice', args=[first.category_id])}")
    form = page.get_by_test_id("practice-form")
    assert first.stem in form.inner_text()
    assert "1 / 2" in page.locator(".page-head").inner_text()
    # A wrong answer: marked wrong, with the right answer shown.
    answer(form, first.pk, right=False)
    verdict = form.locator(".quiz-verdict")
    assert verdict.locator(".quiz-verdict__state").inner_text().strip() == "错误"
    assert "正确答案" in verdict.inner_text()
    # The answer is named by its text (letters follow each view's order); the right
    # option is highlighted.
    assert "正确答案：1921" in verdict.inner_text()
    assert form.locator(".quiz-option.is-right").count() == 1
    screenshot(page, "quiz-practice-feedback-phone")
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="下一题").click()
    page.wait_for_url("**?i=1")
    assert second.stem in page.get_by_test_id("practice-form").inner_text()
    assert "2 / 2" in page.locator(".page-head").inner_text()
    screenshot(page, "quiz-practice-second-question-phone")
    assert_no_horizontal_scroll(page)
