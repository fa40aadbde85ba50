"""The right answer named the same on the result page and in the wrong-answer book.

An attempt shuffles its options; the wrong-answer book shows the bank's order. A 390×844
phone answers a shuffled quiz wrongly, reads the right answer in the review, then practises
the same question from the book: both name the same option, by its text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from quizzes.models import Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_start
from tests.browser.conftest import MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_quizzes import member_in_a_branch
from tests.factories.questions import multiple_choice, question_create, single_choice
from tests.factories.quizzes import fixed_quiz

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

MONTHS = ("一个月", "三个月", "六个月", "十二个月")


def named_answer(fieldset: Any) -> str:
    line = fieldset.locator(".quiz-verdict p", has_text="正确答案").inner_text()
    return line.split("：", 1)[1].strip()


def right_options(fieldset: Any) -> list[tuple[str, str]]:
    """(letter, text) of the options the view highlights as right."""
    rows = fieldset.locator(".quiz-option.is-right")
    return [
        (
            rows.nth(index).locator(".quiz-option__letter").inner_text().strip(),
            rows.nth(index).locator(".quiz-option__text").inner_text().strip(),
        )
        for index in range(rows.count())
    ]


def test_the_result_and_the_wrong_answer_book_name_the_same_option(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    single = question_create(
        single_choice(stem="预备党员的预备期为多长时间？", options=MONTHS, correct=3)
    )
    multiple = question_create(multiple_choice(stem="下列属于“四个意识”的有？", correct=(0, 3)))
    quiz = fixed_quiz(
        [single, multiple],
        title="党员发展知识测验",
        shuffle_options=True,
        review=Quiz.Review.AFTER_SUBMIT,
    )
    attempt = attempt_start(quiz=quiz, member=member)
    # However the shuffle fell, make the attempt's letters differ from the bank's.
    for item in attempt.questions.all():
        item.choice_order = list(reversed([c["id"] for c in item.snapshot["choices"]]))
        item.save(update_fields=["choice_order"])
    page = new_page(MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:attempt", args=[attempt.pk]))
    for position in (1, 2):
        # The last option shown (一个月; 政治意识 alone): a mistake for both questions.
        page.locator(f"fieldset#q{position} .quiz-option input").last.check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    review = page.get_by_test_id("review")
    by_stem = {}
    for position in (1, 2):
        fieldset = review.locator(f"fieldset#q{position}")
        by_stem[fieldset.locator(".quiz-question__stem").inner_text().strip()] = (
            named_answer(fieldset),
            right_options(fieldset),
        )
    screenshot(page, "quiz-answer-names-result-phone")
    assert_no_horizontal_scroll(page)
    assert by_stem[single.stem][0] == "十二个月"
    assert by_stem[single.stem][1] == [("A", "十二个月")]
    assert by_stem[multiple.stem][0] == "政治意识；品牌意识"

    for question, expected in ((single, "十二个月"), (multiple, "政治意识；品牌意识")):
        entry = WrongAnswer.objects.get(member=member, question=question)
        page.goto(reverse("quizzes:wrong_practise", args=[entry.pk]))
        form = page.get_by_test_id("practice-form")
        wrong = next(c.pk for c in question.choices.all() if not c.is_correct)
        form.locator(f"input[value='{wrong}']").check()
        form.get_by_role("button", name="确认答案").click()
        form.locator(".quiz-verdict").wait_for()
        # The same option text in both views; each view's letter is its own visual aid.
        assert named_answer(form) == by_stem[question.stem][0] == expected
        texts = [text for _letter, text in right_options(form)]
        assert sorted(texts) == sorted(text for _letter, text in by_stem[question.stem][1])
        assert "；".join(texts) == expected
        screenshot(page, f"quiz-answer-names-book-{question.type}-phone")
        assert_no_horizontal_scroll(page)
