"""A member who chose English sees English on their points, quizzes and section pages.

Rule names, dates, labels' punctuation and the section headings used to stay Chinese
(issue 12). Text that editors wrote only in Chinese (lesson bodies, category names)
stays Chinese by design; the assertions look at what the interface writes.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cms.models import CourseIndexPage, HomePage, PolicyIndexPage
from learning.models import StudyDay
from learning.points.ledger import points_award
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_quiz_practice import choice_id
from tests.browser.test_quizzes import member_in_a_branch
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]
CHINESE = re.compile(r"[\u4e00-\u9fff\uff1a]")  # Han characters and the full-width colon


def english_page(new_page: NewPage, viewport: dict[str, int]) -> Any:
    """A browser asking for English, as a member's phone set to English does."""
    return new_page(viewport, locale="en-US")


@pytest.mark.parametrize(("viewport", "label"), [(MOBILE, "phone"), (DESKTOP, "desktop")])
def test_my_points_in_english(
    new_page: NewPage, screenshot: Screenshot, viewport: dict[str, int], label: str
) -> None:
    member = member_in_a_branch()
    points_award(member=member, rule_code="lesson_completed", key="lesson:1")
    StudyDay.objects.create(member=member, day=timezone.localdate(), seconds=420)
    page = english_page(new_page, viewport)
    log_in(page, member.username)
    page.goto(reverse("learning:points"))
    rules = page.locator(".rule-list")
    assert "Lessons completed" in rules.inner_text()
    assert "1 point for each lesson you complete, at most 6 a day." in rules.inner_text()
    assert "Studied today: 7 min · 3 min to the next point" in rules.inner_text()
    assert not CHINESE.search(rules.inner_text()), rules.inner_text()
    options = page.locator("select[name=rule] option").all_inner_texts()
    assert "Study time" in options and not CHINESE.search(" ".join(options))
    history = page.locator(".history").inner_text()
    assert "Lessons completed" in history and not CHINESE.search(history)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"english-points-{label}")


def test_quiz_dates_and_the_correct_answer_in_english(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    closing_day = timezone.localdate() + datetime.timedelta(days=4)
    closes = datetime.datetime.combine(
        closing_day, datetime.time(0, 0), tzinfo=timezone.get_current_timezone()
    )
    question = question_create(single_choice(stem="中国共产党成立于哪一年？"))
    fixed_quiz([question], title="党史测验", closes_at=closes, attempts_allowed=5)
    page = english_page(new_page, MOBILE)
    log_in(page, member.username)
    page.goto(reverse("quizzes:index"))
    daily = page.get_by_test_id("daily-quiz").inner_text()
    assert timezone.localdate().strftime("%B") in daily and "月" not in daily
    row = page.get_by_test_id("open-quizzes").inner_text()
    assert f"Closes {closing_day.strftime('%B')} {closing_day.day}, 00:00" in row
    assert_no_horizontal_scroll(page)
    screenshot(page, "english-quizzes-phone")

    # Practice gives feedback after each answer, written by quiz.js.
    page.goto(reverse("quizzes:practice", args=[question.category_id]))
    form = page.get_by_test_id("practice-form")
    form.locator(f"input[value='{choice_id(question.pk, right=False)}']").check()
    form.get_by_role("button", name="Confirm answer").click()
    verdict = form.locator(".quiz-verdict")
    verdict.wait_for()
    # The right answer is named by its text, never by a letter (the order may differ).
    assert "Correct answer: 1921" in verdict.inner_text(), verdict.inner_text()
    assert "：" not in verdict.inner_text()
    screenshot(page, "english-practice-feedback-phone")


def test_course_and_policy_indexes_are_headed_in_english(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    member = member_in_a_branch()
    home = HomePage.objects.get()
    courses = home.add_child(
        instance=CourseIndexPage(
            title="课程",
            slug="courses",
            intro="<p>机关党委组织编写的系列课程。</p>",
            intro_en="<p>Courses written by the party committee.</p>",
        )
    )
    policies = home.add_child(instance=PolicyIndexPage(title="政策文件", slug="policies"))
    page = english_page(new_page, MOBILE)
    log_in(page, member.username)
    page.goto(courses.url)
    assert page.locator("h1").inner_text() == "Courses"
    assert page.title().startswith("Courses")
    assert "Courses written by the party committee." in page.locator("main").inner_text()
    screenshot(page, "english-course-index-phone")
    page.goto(policies.url)
    assert page.locator("h1").inner_text() == "Policy documents"
    assert_no_horizontal_scroll(page)
    screenshot(page, "english-policy-index-phone")
