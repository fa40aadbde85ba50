"""Study progress where the member looks: the end of a lesson and My points (phone, desktop).

The member has studied the lesson for a while already; the page's first heartbeat
credits 45 more seconds (the most one heartbeat credits), and both the
top and the end of the lesson must show the new time without a reload.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.models import LessonProgress, StudyClock, StudyDay
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_quizzes import member_in_a_branch
from tests.browser.test_study import lesson_to_study

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]


def lesson_half_studied() -> tuple[Any, Any]:
    """A five-minute lesson studied for 1 min 40 s, the last heartbeat minutes ago."""
    lesson = lesson_to_study()
    lesson.min_study_minutes = 5
    lesson.save_revision().publish()
    member = member_in_a_branch()
    now = timezone.now()
    LessonProgress.objects.create(
        member=member, lesson_id=lesson.pk, first_opened_at=now, verified_seconds=100
    )
    StudyDay.objects.create(member=member, day=timezone.localdate(), seconds=380)
    StudyClock.objects.update_or_create(
        member=member,
        defaults={"lesson_id": lesson.pk, "last_beat_at": now - datetime.timedelta(minutes=5)},
    )
    return lesson, member


def end_text_includes(page: Any, text: str) -> None:
    """Wait until the end-of-lesson notice says ``text`` (a function: the CSP forbids eval)."""
    page.wait_for_function(
        "(text) => document.querySelector('[data-testid=study-status-end]')"
        ".innerText.includes(text)",
        arg=text,
        timeout=10_000,
    )


@pytest.mark.parametrize(("viewport", "label"), [(MOBILE, "phone"), (DESKTOP, "desktop")])
def test_the_end_of_a_lesson_says_how_much_longer_and_updates_live(
    new_page: NewPage, screenshot: Screenshot, viewport: dict[str, int], label: str
) -> None:
    lesson, member = lesson_half_studied()
    page = new_page(viewport)
    log_in(page, member.username)
    page.goto(lesson.url)
    top = page.locator(".study-status").first
    end = page.get_by_test_id("study-status-end")
    # The first heartbeat credits 45 s: 145 s of 300, so 2 of 5 min and 3 more to go.
    end_text_includes(page, "还需学习 3 分钟")
    assert "已学习 2 / 5 分钟" in top.inner_text()
    assert "已学习 2 / 5 分钟，还需学习 3 分钟才能完成本课时。" in end.inner_text()
    assert LessonProgress.objects.get(member=member).verified_seconds == 145
    end.scroll_into_view_if_needed()
    assert end.is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"study-lesson-end-remaining-{label}")

    page.goto(reverse("learning:points"))
    # The heartbeat completed the first five minutes of today: that point is in.
    assert (
        page.locator(".rule", has_text="学习时长").locator(".rule__count").inner_text() == "1 / 6"
    )
    study = page.get_by_test_id("study-time-today")
    # 380 s before, 45 s credited: 7 min today, 3 min to the next point.
    assert study.inner_text().split() == [
        "今天已学习",
        "7",
        "分钟",
        "·",
        "再学",
        "3",
        "分钟得下一分",
    ]
    assert_no_horizontal_scroll(page)
    screenshot(page, f"study-points-minutes-{label}")


def test_a_lesson_with_enough_time_asks_only_for_reading_to_the_end(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    lesson, member = lesson_half_studied()
    LessonProgress.objects.filter(member=member).update(verified_seconds=300)
    page = new_page(MOBILE, locale="en-US")
    log_in(page, member.username)
    page.goto(lesson.url)
    end = page.get_by_test_id("study-status-end")
    end_text_includes(page, "Read to the end")
    assert "more min" not in end.inner_text()
    page.mouse.wheel(0, 20000)  # read to the end: the lesson is complete, at both places
    page.wait_for_function(
        "() => document.querySelector('[data-testid=study-status-end]')"
        ".classList.contains('is-done')",
        timeout=10_000,
    )
    assert "Lesson completed" in end.inner_text()
    assert "Lesson completed" in page.locator(".study-status").first.inner_text()
    screenshot(page, "study-lesson-end-done-phone-en")
