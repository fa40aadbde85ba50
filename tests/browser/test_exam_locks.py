"""Exam locks as a member and an editor see them (issue 11, finding 1).

On a 390×844 phone a member sits an exam that allows two attempts, gets every answer
wrong and submits: the result shows their answers but holds back verdicts, answers and
explanations; the wrong-answer book says it holds questions back; practice of the exam's
category says why it is empty. At 1366×768 an editor sees which questions are locked and
until when.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.people import roles
from quizzes.models import Attempt, Question, QuestionCategory, Quiz
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_quizzes import member_in_a_branch
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]
LAPTOP = {"width": 1366, "height": 768}
SECRET = "考试解析："


def _bank() -> tuple[list[Question], list[Question]]:
    exam_questions, free = [], []
    for number in range(3):
        for category, into in (("党章党规", exam_questions), ("党史", free)):
            question = question_create(
                single_choice(
                    stem=f"{category}第{number + 1}题：中国共产党的最高理想和最终目标是什么？",
                    category_path=(category,),
                )
            )
            question.explanation = f"{SECRET}{category}{number}"
            question.save()
            into.append(question)
    return exam_questions, free


def _exam(questions: list[Question]) -> Quiz:
    return fixed_quiz(
        questions,
        title="党章党规知识考试",
        kind=Quiz.Kind.EXAM,
        attempts_allowed=2,
        review=Quiz.Review.AFTER_SUBMIT,
        closes_at=timezone.now() + datetime.timedelta(days=3),
    )


def test_a_member_sees_the_exam_answers_held_back_everywhere(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    exam_questions, _free = _bank()
    exam = _exam(exam_questions)
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    page.get_by_test_id("open-quizzes").get_by_role("button", name="开始", exact=True).click()
    page.wait_for_url("**/quiz/attempts/*/")
    attempt = Attempt.objects.get(member=member, quiz=exam)
    for item in attempt.questions.order_by("position"):
        wrong = Question.objects.get(pk=item.question_id).choices.filter(is_correct=False).first()
        page.locator(f"fieldset#q{item.position} input[value='{wrong.pk}']").check()
    page.get_by_text("已保存").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    held = page.get_by_test_id("held")
    assert held.count() == 3
    assert "你的答案已记录" in held.first.inner_text()
    assert SECRET not in page.content()
    screenshot(page, "exam-lock-result-phone")
    assert_no_horizontal_scroll(page)

    page.goto(reverse("quizzes:wrong_book"))
    notice = page.get_by_test_id("wrong-book-held")
    assert "3 道题正用于尚未结束的考试" in notice.inner_text()
    assert not any(question.stem in page.content() for question in exam_questions)
    screenshot(page, "exam-lock-wrong-book-phone")
    assert_no_horizontal_scroll(page)

    page.goto(reverse("quizzes:practice_index"))
    categories = page.get_by_test_id("practice-categories")
    categories.locator("li", has_text="党章党规").get_by_role("link", name="顺序练习").click()
    page.wait_for_url("**/quiz/practice/")
    assert "这个分类的题目正用于尚未结束的考试" in page.locator(".messages").inner_text()
    screenshot(page, "exam-lock-practice-phone")
    categories.locator("li", has_text="党史").get_by_role("link", name="顺序练习").click()
    page.wait_for_url("**/quiz/practice/*/")
    assert page.locator("fieldset.quiz-question").count() == 1
    assert_no_horizontal_scroll(page)


def test_an_editor_sees_which_questions_are_locked_and_until_when(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    exam_questions, free = _bank()
    _exam(exam_questions)
    root = QuestionCategory.objects.get(name="党史")
    QuestionCategory.objects.filter(pk=root.pk).update(exam_only=True)
    editor = MemberFactory(
        username="bianji",
        display_name="编辑甲",
        organization=None,
        role_names=[roles.EDITOR],
    )
    page = new_page(LAPTOP)
    page.goto(reverse("wagtailadmin_login"))
    page.fill("#id_username", editor.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/")
    page.goto(reverse("wagtailsnippets_quizzes_question:list"))
    table = page.locator("table.listing")
    assert table.get_by_text("考试锁定").count() >= 1
    assert table.get_by_text("（党章党规知识考试）").count() == 3
    assert table.get_by_text("仅用于考试（所在分类）").count() == len(free)
    screenshot(page, "exam-lock-question-list-laptop")
