"""The nightly study signals and the reviewers' morning email (docs/integrity.md).

A timer bot's heartbeats (every 30 s, always "in use", for hours) and night study on many
days become flags, never refusals; confirming reverses the study-time points of the days
concerned, once; the digest reaches the reviewers whose scope the flags are in.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse

from learning.integrity.digest import integrity_digest_send
from learning.integrity.patterns import study_patterns_flag
from learning.integrity.services import CONFIRM, DISMISS, FlagDecisionError, flag_decide
from learning.models import IntegrityFlag, PointsEntry, StudyDay
from learning.study.progress import Heartbeat, LessonRequirements, lesson_heartbeats
from learning.tasks import flag_study_patterns, integrity_digest
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory, secretary_of

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 12, 8)
MORNING = datetime.datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
LONG = LessonRequirements(min_seconds=60, cap_seconds=10**7)


@pytest.fixture
def lesson(content):
    return add_lesson(add_course(), "长课", min_study_minutes=1, estimated_minutes=600)


@pytest.fixture
def member(tree):
    return MemberFactory(username="bot", display_name="某党员", organization=tree.branch_a1)


def _read(member, lesson, start: datetime.datetime, minutes: int, every: int = 30) -> None:
    """Heartbeats every ``every`` s for ``minutes``, visible and in use, then a closing one."""
    beats = [
        Heartbeat(at=start + datetime.timedelta(seconds=second), visible=True, active=True)
        for second in range(0, minutes * 60 + 1, every)
    ]
    beats.append(
        Heartbeat(
            at=beats[-1].at + datetime.timedelta(seconds=every),
            visible=True,
            active=True,
            closing=True,
        )
    )
    lesson_heartbeats(member=member, lesson_id=lesson.pk, requirements=LONG, beats=beats)


def test_hours_of_timer_beats_are_flagged_the_next_night_once(member, lesson):
    _read(member, lesson, MORNING, minutes=180)
    study_day = StudyDay.objects.get(member=member, day=DAY)
    assert study_day.longest_run_seconds >= 180 * 60 and study_day.longest_run_gap_spread_ms == 0
    assert study_patterns_flag(day=DAY) == 1
    assert study_patterns_flag(day=DAY) == 0  # the job may run twice
    flag = IntegrityFlag.objects.get(member=member)
    assert flag.kind == IntegrityFlag.Kind.REGULAR_BEATS and flag.is_open
    assert flag.evidence["run_minutes"] >= 180 and flag.evidence["dates"] == [DAY.isoformat()]
    # A signal, not a refusal: the day's study was credited and awarded as it happened.
    assert PointsEntry.objects.filter(member=member, rule__code="study_time").exists()


def test_an_hour_of_reading_with_pauses_is_not_flagged(member, lesson):
    _read(member, lesson, MORNING, minutes=60)
    _read(member, lesson, MORNING + datetime.timedelta(hours=2), minutes=60)
    assert study_patterns_flag(day=DAY) == 0


def _night(member, day: datetime.date, minutes: int) -> None:
    StudyDay.objects.create(
        member=member, day=day, seconds=minutes * 60, night_seconds=minutes * 60
    )


def test_study_through_the_night_on_many_days_is_flagged_once_a_week(member):
    for offset in (0, 2, 4, 6, 8):
        _night(member, DAY - datetime.timedelta(days=offset), minutes=20)
    assert study_patterns_flag(day=DAY) == 1
    flag = IntegrityFlag.objects.get(member=member)
    assert flag.kind == IntegrityFlag.Kind.NIGHT_STUDY
    assert (flag.evidence["nights"], flag.evidence["days"]) == (5, 14)
    # The next night, the same ISO week: no second flag.
    _night(member, DAY + datetime.timedelta(days=1), minutes=20)
    assert study_patterns_flag(day=DAY + datetime.timedelta(days=1)) == 0


def test_a_few_late_nights_are_not_flagged(member):
    for offset in (0, 3, 6, 9):
        _night(member, DAY - datetime.timedelta(days=offset), minutes=30)
    _night(member, DAY - datetime.timedelta(days=1), minutes=5)  # under the minutes
    assert study_patterns_flag(day=DAY) == 0


def test_confirming_reverses_that_day_s_study_points_once(member, lesson, secretary_a):
    _read(member, lesson, MORNING - datetime.timedelta(days=1), minutes=40)  # another day
    _read(member, lesson, MORNING, minutes=180)
    study_patterns_flag(day=DAY)
    flag = IntegrityFlag.objects.get(member=member)
    study_points = PointsEntry.objects.filter(member=member, rule__code="study_time")
    that_day = sum(study_points.filter(local_date=DAY).values_list("points", flat=True))
    other_day = sum(study_points.exclude(local_date=DAY).values_list("points", flat=True))
    assert that_day > 0 and other_day > 0
    flag_decide(flag=flag, by=secretary_a, decision=CONFIRM, note="脚本刷学习时长")
    with pytest.raises(FlagDecisionError):
        flag_decide(flag=flag, by=secretary_a, decision=CONFIRM, note="脚本刷学习时长")
    reversals = PointsEntry.objects.filter(member=member, reverses__isnull=False)
    assert sum(reversals.values_list("points", flat=True)) == -that_day
    assert all("脚本刷学习时长" in entry.note for entry in reversals)
    assert set(reversals.values_list("local_date", flat=True)) == {DAY}


def test_dismissing_a_study_flag_changes_no_points(member, lesson, secretary_a):
    _read(member, lesson, MORNING, minutes=180)
    study_patterns_flag(day=DAY)
    before = list(PointsEntry.objects.filter(member=member).values_list("pk", "points"))
    flag_decide(flag=IntegrityFlag.objects.get(), by=secretary_a, decision=DISMISS, note="")
    assert list(PointsEntry.objects.filter(member=member).values_list("pk", "points")) == before


def test_the_review_page_shows_the_member_s_usual_study(member, lesson, secretary_a, client):
    _read(member, lesson, MORNING - datetime.timedelta(days=3), minutes=30)
    _read(member, lesson, MORNING, minutes=180)
    study_patterns_flag(day=DAY)
    client.force_login(secretary_a)
    page = client.get(reverse("learning_integrity_flag", args=[IntegrityFlag.objects.get().pk]))
    assert page.status_code == 200
    pattern = dict(page.context["pattern"])
    assert pattern["此前 30 天的学习天数"] == "1"
    assert "连续学习" in page.context["explanation"]


def test_the_morning_email_reaches_the_reviewers_of_the_flag_s_scope(member, tree, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://dangjian.example.org"
    ours = secretary_of(tree.general_a, "wang", "王书记")
    theirs = secretary_of(tree.general_b, "zhou", "周书记")
    ours.email, theirs.email = "wang@example.org", "zhou@example.org"
    ours.save()
    theirs.save()
    for offset in (0, 2, 4, 6, 8):
        _night(member, DAY - datetime.timedelta(days=offset), minutes=20)
    study_patterns_flag(day=DAY)
    IntegrityFlag.objects.update(raised_at=MORNING - datetime.timedelta(hours=6))  # 03:00
    assert integrity_digest_send(until=MORNING - datetime.timedelta(days=1)) == 0
    assert integrity_digest_send(until=MORNING) == 1
    [message] = mail.outbox
    assert message.to == ["wang@example.org"]
    assert "1 条新" in message.subject
    assert "https://dangjian.example.org/admin/integrity/" in message.body


def test_the_beat_jobs_are_scheduled_and_run(settings, member, time_machine):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["flag-study-patterns"]["task"] == "learning.flag_study_patterns"
    assert schedule["integrity-digest"]["task"] == "learning.integrity_digest"
    for offset in (1, 3, 5, 7, 9):
        _night(member, DAY - datetime.timedelta(days=offset), minutes=20)
    time_machine.move_to(MORNING, tick=False)
    assert flag_study_patterns.apply().get() == 1
    assert integrity_digest.apply().get() == 0  # no reviewer has an email address


def test_nights_already_judged_are_not_judged_again(member, secretary_a):
    for offset in (0, 1, 2, 3, 4):
        _night(member, DAY - datetime.timedelta(days=offset), minutes=20)  # Tue..Fri before
    assert study_patterns_flag(day=DAY) == 1
    flag_decide(flag=IntegrityFlag.objects.get(), by=secretary_a, decision=DISMISS, note="")
    next_week = DAY + datetime.timedelta(days=7)
    assert study_patterns_flag(day=next_week) == 0  # no new night: nothing to judge
    for offset in range(5):
        _night(member, next_week - datetime.timedelta(days=offset), minutes=20)
    assert study_patterns_flag(day=next_week) == 1
    newest = IntegrityFlag.objects.filter(status=IntegrityFlag.Status.OPEN).get()
    assert min(newest.evidence["dates"]) > DAY.isoformat()
