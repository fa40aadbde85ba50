"""Verified study time: what heartbeats earn, and what scripts cannot."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from wagtail.models import Page

from learning.models import LessonProgress, PointsEntry, StudyClock, StudyDay
from learning.study.progress import (
    Heartbeat,
    LessonRequirements,
    lesson_heartbeat,
    lesson_heartbeats,
)
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
FIVE_MINUTES = LessonRequirements(min_seconds=300, cap_seconds=1800)


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))


@pytest.fixture
def lessons(db):
    """Two pages standing in for lessons (progress refers to any page)."""
    root = Page.get_first_root_node()
    return [root.add_child(instance=Page(title=f"课时{i}", slug=f"lesson-{i}")) for i in (1, 2)]


def beat(member, lesson, seconds, requirements=FIVE_MINUTES, **flags):
    flags.setdefault("visible", True)
    flags.setdefault("active", True)
    return lesson_heartbeat(
        member=member,
        lesson_id=lesson.pk,
        requirements=requirements,
        now=START + datetime.timedelta(seconds=seconds),
        **flags,
    )


def study(member, lesson, until, every=30, **flags):
    """Heartbeats every ``every`` seconds from 0 to ``until``; the total credited."""
    return sum(beat(member, lesson, t, **flags).credited for t in range(0, until + 1, every))


def test_steady_reading_is_credited_with_wall_clock_time(member, lessons):
    assert study(member, lessons[0], 600) == 600
    assert LessonProgress.objects.get(member=member).verified_seconds == 600


def test_hidden_or_idle_tab_earns_nothing(member, lessons):
    assert study(member, lessons[0], 600, visible=False) == 0
    assert study(member, lessons[1], 600, active=False) == 0


def test_posting_faster_than_the_page_does_gains_nothing(member, lessons):
    # A script posting every 2 s for 10 minutes earns no more than the 10 minutes.
    assert study(member, lessons[0], 600, every=2) <= 600


def test_two_lessons_open_at_once_earn_one_lessons_time(member, lessons):
    credited = [0, 0]
    for t in range(0, 601, 15):
        credited[t // 15 % 2] += beat(member, lessons[t // 15 % 2], t).credited
    # The first lesson holds the lease and earns its wall-clock time; the other nothing.
    assert credited == [600, 0]


def test_a_long_gap_credits_at_most_one_heartbeat(member, lessons):
    beat(member, lessons[0], 0)
    assert beat(member, lessons[0], 3600).credited == 45


def test_closing_heartbeat_ends_the_run(member, lessons):
    beat(member, lessons[0], 0)
    assert beat(member, lessons[0], 20, closing=True).credited == 20
    # Back after an hour away: the hour is not credited.
    assert beat(member, lessons[0], 3620).credited == 0
    assert beat(member, lessons[0], 3650).credited == 30


def test_time_per_lesson_is_capped(member, lessons):
    capped = LessonRequirements(min_seconds=60, cap_seconds=120)
    assert study(member, lessons[0], 600, requirements=capped) == 120


def test_completion_needs_the_time_and_the_end_and_awards_once(member, lessons):
    study(member, lessons[0], 240)
    assert beat(member, lessons[0], 270, reached_end=True).completed_now is False  # 270 s
    done = beat(member, lessons[0], 300)
    assert done.completed_now and done.progress.completed_at is not None
    assert not beat(member, lessons[0], 330).completed_now
    entries = PointsEntry.objects.filter(member=member, rule__code="lesson_completed")
    assert entries.count() == 1


def test_a_watched_video_counts_as_reaching_the_end(member, lessons):
    study(member, lessons[0], 300, video_percent=89)
    assert LessonProgress.objects.get().completed_at is None
    assert beat(member, lessons[0], 330, video_percent=90).completed_now


def test_completing_every_lesson_completes_the_course(member, lessons):
    course = LessonRequirements(
        min_seconds=30,
        cap_seconds=600,
        course_id=999,
        course_lesson_ids=[lesson.pk for lesson in lessons],
        course_points=5,
    )
    beat(member, lessons[0], 0, requirements=course)
    # Leaving the first lesson (its closing beat) frees the clock for the second.
    assert not beat(
        member, lessons[0], 30, requirements=course, reached_end=True, closing=True
    ).course_completed_now
    beat(member, lessons[1], 60, requirements=course)
    result = beat(member, lessons[1], 90, requirements=course, reached_end=True)
    assert result.completed_now and result.course_completed_now
    course_entry = PointsEntry.objects.get(rule__code="course_completed")
    assert course_entry.points == 5


def test_every_five_verified_minutes_earn_study_time(member, lessons):
    study(member, lessons[0], 900)
    day = StudyDay.objects.get(member=member)
    assert (day.seconds, day.blocks_awarded) == (900, 3)
    assert PointsEntry.objects.filter(rule__code="study_time").count() == 3


def test_a_run_of_heartbeats_at_once_is_recorded_as_if_each_came_alone(tree, lessons):
    """``lesson_heartbeats`` (the demo's replay) and one call per beat agree on everything."""
    alone, batched = (
        MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))
        for _ in range(2)
    )
    course = LessonRequirements(
        min_seconds=300,
        cap_seconds=500,
        course_id=lessons[0].pk,
        course_lesson_ids=[lessons[0].pk],
        course_points=3,
    )
    # Bursts, a gap, a hidden beat, the end reached, past the cap, across midnight.
    offsets = [0, 5, 30, 200, 230, 231, 260, 300, 330, 360, 400, 440, 480, 520, 560, 600]
    offsets += [15 * 3600 + 30 * step for step in range(8)]
    beats = [
        Heartbeat(
            at=START + datetime.timedelta(seconds=offset),
            visible=offset != 230,
            active=True,
            reached_end=offset >= 440,
            video_percent=offset // 10,
            closing=offset == 600,
        )
        for offset in offsets
    ]
    one_by_one = [
        lesson_heartbeat(
            member=alone,
            lesson_id=lessons[0].pk,
            requirements=course,
            visible=b.visible,
            active=b.active,
            reached_end=b.reached_end,
            video_percent=b.video_percent,
            closing=b.closing,
            now=b.at,
        )
        for b in beats
    ]
    at_once = lesson_heartbeats(
        member=batched, lesson_id=lessons[0].pk, requirements=course, beats=beats
    )

    def outcome(results):
        return [(r.credited, r.completed_now, r.course_completed_now) for r in results]

    assert outcome(at_once) == outcome(one_by_one)
    assert sum(r.credited for r in at_once) == 500  # the cap
    assert any(r.course_completed_now for r in at_once)

    def stored(member):
        progress = LessonProgress.objects.get(member=member)
        days = list(
            StudyDay.objects.filter(member=member)
            .values_list(
                "day",
                "seconds",
                "blocks_awarded",
                "night_seconds",
                "longest_run_seconds",
                "longest_run_beats",
                "longest_run_gap_spread_ms",
            )
            .order_by("day")
        )
        clock = StudyClock.objects.filter(member=member).values_list(
            "lesson", "last_beat_at", "run_seconds", "run_beats", "run_gap_min_ms", "run_gap_max_ms"
        )
        entries = list(
            PointsEntry.objects.filter(member=member)
            .values_list("rule__code", "points", "local_date", "created_at")
            .order_by("created_at", "rule__code")
        )
        return (
            progress.verified_seconds,
            progress.completed_at,
            progress.video_percent,
            progress.reached_end,
            days,
            entries,
            list(clock),
        )

    assert stored(batched) == stored(alone)
    assert len(stored(batched)[4]) == 2  # two local days
    assert (
        lesson_heartbeats(member=batched, lesson_id=lessons[1].pk, requirements=course, beats=[])
        == []
    )
