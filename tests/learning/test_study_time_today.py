"""How long a member studied today and how long until the next study-time point."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.models import PointsRule, StudyDay
from learning.points.ledger import points_award
from learning.study.progress import StudyTimeToday, study_time_today
from tests.factories.people import MemberFactory

DAY = datetime.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("seconds", "minutes", "to_next"),
    [
        (0, 0, 5),  # nothing yet: a whole block to go
        (59, 0, 5),  # 241 s left: rounded up, never "0 min to go"
        (299, 4, 1),
        (300, 5, 5),  # a point just earned: the next block starts
        (420, 7, 3),
        (1799, 29, 1),
    ],
)
def test_minutes_today_and_to_the_next_point(seconds, minutes, to_next):
    today = StudyTimeToday(seconds=seconds, capped=False)
    assert (today.minutes, today.minutes_to_next_point) == (minutes, to_next)


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))


def test_a_member_who_has_not_studied_today_has_zero(member):
    assert study_time_today(member=member, day=DAY) == StudyTimeToday(seconds=0, capped=False)


def test_the_study_day_is_read_and_the_cap_is_the_rules(member):
    StudyDay.objects.create(member=member, day=DAY, seconds=1900, blocks_awarded=6)
    # Six points of study_time on that day reach its daily cap of 6.
    for block in range(1, 7):
        points_award(
            member=member,
            rule_code="study_time",
            key=f"study_time:{member.pk}:{DAY}:{block}",
            occurred_at=datetime.datetime.combine(
                DAY, datetime.time(9, block), tzinfo=timezone.get_current_timezone()
            ),
        )
    assert study_time_today(member=member, day=DAY) == StudyTimeToday(seconds=1900, capped=True)
    PointsRule.objects.filter(code="study_time").update(daily_cap=None)
    assert not study_time_today(member=member, day=DAY).capped


def _points_page(client, member, language: str) -> str:
    client.force_login(member)
    client.cookies["django_language"] = language
    return client.get(reverse("learning:points")).content.decode()


def test_my_points_show_minutes_today_and_to_the_next_point(client, member):
    StudyDay.objects.create(member=member, day=timezone.localdate(), seconds=420)
    page = _points_page(client, member, "en")
    assert 'data-testid="study-time-today"' in page
    assert "Studied today: 7 min" in page
    assert "3 min to the next point" in page
    page = _points_page(client, member, "zh-hans")
    assert "今天已学习 7 分钟" in page and "再学 3 分钟得下一分" in page


def test_my_points_say_when_the_study_time_cap_is_reached(client, member):
    today = timezone.localdate()
    StudyDay.objects.create(member=member, day=today, seconds=1860, blocks_awarded=6)
    for block in range(1, 7):
        points_award(
            member=member, rule_code="study_time", key=f"study_time:{member.pk}:{today}:{block}"
        )
    page = _points_page(client, member, "en")
    assert "Studied today: 31 min" in page
    assert "Today's study-time points are all earned" in page
    assert "to the next point" not in page
