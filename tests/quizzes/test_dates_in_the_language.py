"""Dates on the quiz pages are written the way the member's language writes them."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from quizzes.attempts import daily_quiz_for
from tests.factories import MemberFactory
from tests.quizzes.quiz_factories import fixed_quiz

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
    daily_quiz_for()
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
