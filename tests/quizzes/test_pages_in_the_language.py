"""Quiz pages in the member's language: dates and punctuation the way that language writes them."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from quizzes.taking.attempts import attempt_start
from quizzes.taking.daily import daily_quiz_make
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, true_false
from tests.factories.quizzes import fixed_quiz, wrong_answer

pytestmark = pytest.mark.django_db

ENGLISH_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]  # fmt: skip


@pytest.fixture
def quiz_closing_in_ten_days(db):
    day = timezone.localdate() + datetime.timedelta(days=10)
    closes = datetime.datetime.combine(
        day, datetime.time(0, 0), tzinfo=timezone.get_current_timezone()
    )
    return fixed_quiz([], title="党章知识测验", closes_at=closes), day


def _index(client, tree, language: str) -> str:
    client.force_login(MemberFactory(organization=tree.branch_a1))
    client.cookies["django_language"] = language
    daily_quiz_make()
    response = client.get(reverse("quizzes:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_quiz_dates_are_english_in_english(client, tree, quiz_closing_in_ten_days):
    _quiz, closing_day = quiz_closing_in_ten_days
    today = timezone.localdate()
    page = _index(client, tree, "en")
    assert f">{ENGLISH_MONTHS[today.month - 1]} {today.day}<" in page
    assert f"Closes {ENGLISH_MONTHS[closing_day.month - 1]} {closing_day.day}, 00:00" in page
    assert "月" not in page and "日" not in page


def test_quiz_dates_are_chinese_in_chinese(client, tree, quiz_closing_in_ten_days):
    _quiz, closing_day = quiz_closing_in_ten_days
    today = timezone.localdate()
    page = _index(client, tree, "zh-hans")
    assert f">{today.month}月{today.day}日<" in page  # no leading zero: 9月5日, not 09月5日
    assert f"{closing_day.month}月{closing_day.day}日 00:00 截止" in page


def _result_after_a_wrong_answer(client, tree, language: str) -> str:
    member = MemberFactory(organization=tree.branch_a1)
    client.force_login(member)
    client.cookies["django_language"] = language
    quiz = fixed_quiz([question_create(true_false())], title="判断题测验")
    attempt = attempt_start(quiz=quiz, member=member)
    item = attempt.questions.get(position=1)
    client.post(
        reverse("quizzes:save", args=[attempt.pk]),
        data=json.dumps({"position": 1, "response": wrong_answer(item.snapshot), "seq": 1}),
        content_type="application/json",
    )
    client.post(reverse("quizzes:submit", args=[attempt.pk]))
    return client.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()


def test_the_correct_answer_line_uses_english_punctuation_in_english(client, tree):
    page = _result_after_a_wrong_answer(client, tree, "en")
    assert "<strong>Correct answer:</strong> " in page
    assert "：" not in page


def test_the_correct_answer_line_uses_chinese_punctuation_in_chinese(client, tree):
    page = _result_after_a_wrong_answer(client, tree, "zh-hans")
    assert "<strong>正确答案：</strong>" in page
