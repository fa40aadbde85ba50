"""Heartbeats a script sends: one lesson at a time, a daily ceiling, never faster than required.

The HTTP tests are the project's own scripted client: a member's logged-in session posting
to ``POST /learn/lessons/<id>/heartbeat/`` on a frozen clock that the script moves by hand,
as a bot with a timer would (docs/study.md, "Verified study time"). The day-long and
pattern tests call ``lesson_heartbeats`` with explicit server times, for speed.
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from typing import Any

import hypothesis
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from wagtail.models import Page

from learning.models import LessonProgress, StudyClock, StudyDay
from learning.study.progress import (
    LEASE_SECONDS,
    MAX_CREDIT,
    MIN_BEAT_SECONDS,
    Heartbeat,
    LessonRequirements,
    lesson_heartbeats,
)
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Tuesday morning in Shanghai: nothing here is night study.
START = datetime.datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
DAY = START.date()
ANY_TIME = LessonRequirements(min_seconds=300, cap_seconds=10**7)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))


@pytest.fixture
def lessons(content):
    """Two five-minute lessons of one course (each may earn up to 90 minutes)."""
    course = add_course()
    return [
        add_lesson(course, title, min_study_minutes=5, estimated_minutes=30)
        for title in ("第一课", "第二课")
    ]


class Script:
    """A scripted client: posts heartbeats as the lesson page does, at moments it chooses."""

    def __init__(self, client: Client, clock: Any) -> None:
        self.client = client
        self.clock = clock
        self.now = 0.0  # seconds since START

    def move(self, at: float) -> None:
        """Move the frozen clock to ``at`` seconds after START."""
        self.clock.shift(at - self.now)
        self.now = at

    def beat(self, at: float, lesson: Page, /, **body: Any) -> dict[str, Any]:
        """One heartbeat ``at`` seconds after START (visible and in use unless told)."""
        self.move(at)
        body.setdefault("visible", True)
        body.setdefault("active", True)
        response = self.post(lesson, json.dumps(body))
        assert response.status_code == 200, response.content
        return response.json()

    def post(self, lesson: Page, body: str | bytes, **headers: Any) -> Any:
        return self.client.post(
            reverse("lesson_heartbeat", args=[lesson.pk]),
            data=body,
            content_type="application/json",
            **headers,
        )


@pytest.fixture
def script(clock, member) -> Script:
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return Script(client, clock)


def verified(member, lesson) -> int:
    progress = LessonProgress.objects.filter(member=member, lesson_id=lesson.pk).first()
    return progress.verified_seconds if progress else 0


def day_seconds(member, day=DAY) -> int:
    study_day = StudyDay.objects.filter(member=member, day=day).first()
    return study_day.seconds if study_day else 0


# --- One lesson at a time -------------------------------------------------------------


def test_a_bot_beating_two_lessons_at_once_earns_one_lessons_time(script, member, lessons):
    first, second = lessons
    credited = {first.pk: 0, second.pk: 0}
    # Each lesson's timer every 30 s, the second 15 s after the first, for 20 minutes.
    for t in range(0, 20 * 60 + 1, 30):
        credited[first.pk] += script.beat(t, first)["credited"]
        credited[second.pk] += script.beat(t + 15, second)["credited"]
    assert credited == {first.pk: 20 * 60, second.pk: 0}
    assert (verified(member, first), verified(member, second)) == (20 * 60, 0)
    assert day_seconds(member) == 20 * 60  # wall-clock time, once
    assert StudyClock.objects.get(member=member).lesson_id == first.pk


def test_two_devices_beating_at_the_same_moments_earn_one_lessons_time(script, member, lessons):
    """A phone and a PC, each on its own lesson, their timers in step."""
    first, second = lessons
    for t in range(0, 10 * 60 + 1, 30):
        script.beat(t, second if t == 0 else first)  # the phone opened the second lesson first
        script.beat(t, first if t == 0 else second)
    assert verified(member, first) + verified(member, second) == day_seconds(member) == 600
    assert verified(member, first) == 0  # the second kept the lease throughout


def test_moving_to_another_lesson_in_one_tab_loses_nothing(script, member, lessons):
    first, second = lessons
    for t in range(0, 301, 30):
        script.beat(t, first)
    assert script.beat(310, first, closing=True)["credited"] == 10  # the page is left
    # The next page's first beat comes a second later and opens its run at once.
    assert script.beat(311, second)["credited"] == 0
    assert script.beat(341, second)["credited"] == 30
    for t in range(371, 612, 30):
        script.beat(t, second)
    assert (verified(member, first), verified(member, second)) == (310, 300)
    assert day_seconds(member) == 610  # all but the second spent loading the page


def test_a_hidden_or_idle_lesson_lets_another_take_the_clock(script, member, lessons):
    first, second = lessons
    script.beat(0, first)
    script.beat(30, first, active=False)  # the PC's tab is idle
    assert script.beat(35, second)["credited"] == 0  # the phone takes over
    assert script.beat(65, second)["credited"] == 30
    assert script.beat(70, first)["credited"] == 0  # the PC is back: ignored
    assert StudyClock.objects.get(member=member).lesson_id == second.pk


def test_a_lapsed_lease_hands_over(script, member, lessons):
    first, second = lessons
    for t in range(0, 121, 30):
        script.beat(t, first)  # then the phone is killed: no closing beat
    assert script.beat(150, second)["credited"] == 0  # the lease still holds: ignored
    assert StudyClock.objects.get(member=member).lesson_id == first.pk
    # Once the last beat of the first lesson is LEASE_SECONDS old, the second takes over
    # (its first beat starts a run and earns nothing, like any new run).
    assert script.beat(120 + LEASE_SECONDS, second)["credited"] == 0
    assert StudyClock.objects.get(member=member).lesson_id == second.pk
    assert script.beat(210, second)["credited"] == 30
    # The phone comes back to life: now its lesson is the one ignored.
    assert script.beat(220, first)["credited"] == 0
    assert script.beat(240, second)["credited"] == 30
    assert (verified(member, first), verified(member, second)) == (120, 60)


def test_the_lease_holders_own_bursts_and_gaps_are_as_before(script, member, lessons):
    first, _second = lessons
    script.beat(0, first)
    assert script.beat(MIN_BEAT_SECONDS - 1, first)["credited"] == 0  # a burst
    assert script.beat(30, first)["credited"] == 30
    assert script.beat(30 + 600, first)["credited"] == MAX_CREDIT  # a long gap


# --- The daily ceiling ------------------------------------------------------------------


def _day_of_beats(day: datetime.date, start_hour: int, end_hour: int, every: int = 30):
    begin = datetime.datetime.combine(day, datetime.time(start_hour), tzinfo=SHANGHAI)
    count = (end_hour - start_hour) * 3600 // every
    return [
        Heartbeat(at=begin + datetime.timedelta(seconds=every * n), visible=True, active=True)
        for n in range(count)
    ]


def test_the_daily_ceiling_holds_over_a_whole_day_of_beats(member, lessons):
    first, second = lessons
    ceiling = 240 * 60  # the default
    # Twelve hours on one lesson, then the rest of the day on the other.
    morning = _day_of_beats(DAY, 0, 12)
    morning[-1] = Heartbeat(at=morning[-1].at, visible=True, active=True, closing=True)
    results = lesson_heartbeats(
        member=member, lesson_id=first.pk, requirements=ANY_TIME, beats=morning
    )
    results += lesson_heartbeats(
        member=member, lesson_id=second.pk, requirements=ANY_TIME, beats=_day_of_beats(DAY, 12, 24)
    )
    assert sum(result.credited for result in results) == ceiling
    assert (verified(member, first), verified(member, second)) == (ceiling, 0)
    study_day = StudyDay.objects.get(member=member, day=DAY)
    assert study_day.seconds == ceiling
    assert study_day.blocks_awarded == ceiling // 300
    # The next local day starts with the whole ceiling again (its first beat, 30 s after
    # the last of the day before, is credited to it).
    tomorrow = DAY + datetime.timedelta(days=1)
    lesson_heartbeats(
        member=member,
        lesson_id=second.pk,
        requirements=ANY_TIME,
        beats=_day_of_beats(tomorrow, 0, 1),
    )
    assert day_seconds(member, tomorrow) == 3600


def test_a_beat_crossing_the_ceiling_is_credited_up_to_it(member, lessons, settings):
    settings.DANGJIAN_STUDY_DAILY_CEILING_MINUTES = 1
    results = lesson_heartbeats(
        member=member,
        lesson_id=lessons[0].pk,
        requirements=ANY_TIME,
        beats=_day_of_beats(DAY, 9, 10, every=45)[:5],
    )
    assert [result.credited for result in results] == [0, 45, 15, 0, 0]
    assert verified(member, lessons[0]) == day_seconds(member) == 60


def test_the_ceiling_counts_every_lesson_of_the_day(script, member, lessons, settings):
    settings.DANGJIAN_STUDY_DAILY_CEILING_MINUTES = 2
    first, second = lessons
    for t in range(0, 91, 30):
        script.beat(t, first)
    script.beat(100, first, closing=True)
    for t in range(101, 400, 30):
        script.beat(t, second)
    assert (verified(member, first), verified(member, second)) == (100, 20)
    assert day_seconds(member) == 120


# --- Never complete faster than the lesson requires ------------------------------------


@pytest.mark.parametrize("every", [2, MIN_BEAT_SECONDS, MAX_CREDIT])
def test_a_script_cannot_complete_a_lesson_faster_than_its_minimum(script, lessons, every):
    lesson = lessons[0]
    required = lesson.min_study_minutes * 60
    completed_at = None
    for t in range(0, 2 * required, every):
        answer = script.beat(t, lesson, reached_end=True, video_percent=100)
        if answer["completed"]:
            completed_at = t
            break
    assert completed_at is not None
    assert required <= completed_at < required + max(every, MIN_BEAT_SECONDS)


def test_forged_timing_in_the_body_or_headers_changes_nothing(script, member, lessons):
    lesson = lessons[0]
    forged = {
        "at": "2020-01-01T00:00:00+08:00",
        "timestamp": 0,
        "elapsed": 3600,
        "seconds": 3600,
        "credited": 3600,
        "verified_seconds": 99_999,
        "last_beat_at": "2000-01-01T00:00:00Z",
    }
    answers = [
        script.beat(t, lesson, reached_end=True, **forged)["credited"] for t in range(0, 271, 30)
    ]
    assert answers == [0] + [30] * 9
    script.move(300)
    response = script.post(
        lesson,
        json.dumps({"visible": True, "active": True, **forged}),
        HTTP_DATE="Thu, 01 Jan 2099 00:00:00 GMT",
        HTTP_X_REQUEST_START="t=0",
    )
    # The server's own clock says 300 s: exactly the minimum, so completed only now.
    assert response.json()["credited"] == 30 and response.json()["completed_now"]
    assert LessonProgress.objects.get(member=member).completed_at == START + datetime.timedelta(
        seconds=300
    )


@hypothesis.settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=120),  # seconds since the previous beat
            st.booleans(),  # which lesson
            st.sampled_from(["beat", "beat", "beat", "closing", "hidden", "idle"]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_no_sequence_of_beats_earns_more_than_the_time_elapsed(tree, lessons, sequence):
    """Whatever a script sends, in any order of lessons and flags: credited time across all
    lessons never exceeds the wall-clock time since its first beat, and no lesson completes
    before its minimum time has passed since its first beat."""
    member = MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))
    requirements = LessonRequirements(min_seconds=120, cap_seconds=10**6)
    at, first_at, total = START, {}, 0
    for gap, which, kind in sequence:
        at += datetime.timedelta(seconds=gap)
        lesson = lessons[int(which)]
        first_at.setdefault(lesson.pk, at)
        [result] = lesson_heartbeats(
            member=member,
            lesson_id=lesson.pk,
            requirements=requirements,
            beats=[
                Heartbeat(
                    at=at,
                    visible=kind != "hidden",
                    active=kind != "idle",
                    reached_end=True,
                    closing=kind == "closing",
                )
            ],
        )
        total += result.credited
        assert total <= (at - START).total_seconds()
        if result.completed_now:
            assert (at - first_at[lesson.pk]).total_seconds() >= requirements.min_seconds
    assert total == sum(StudyDay.objects.filter(member=member).values_list("seconds", flat=True))


# --- Pattern numbers ---------------------------------------------------------------------


def _beats(begin: datetime.datetime, steps: list[tuple[float, str]]) -> list[Heartbeat]:
    """Beats ``steps`` apart (seconds since the previous one), each a beat or a closing one."""
    beats, at = [], begin
    for gap, kind in steps:
        at += datetime.timedelta(seconds=gap)
        beats.append(Heartbeat(at=at, visible=True, active=True, closing=kind == "closing"))
    return beats


def test_the_pattern_numbers_of_a_known_sequence(member, lessons):
    dawn = datetime.datetime(2026, 12, 8, 4, 58, tzinfo=SHANGHAI)
    steps = [(0, "open"), (30, "beat"), (29.75, "beat"), (31.5, "beat")]  # 04:58 … 04:59:31
    steps += [(32, "beat"), (30, "closing")]  # 05:00:03, 05:00:33: a run of 5 beats ends
    steps += [(567, "open"), (30, "beat"), (30, "beat")]  # a shorter run after a pause
    steps += [(120, "beat"), (30, "beat")]  # a long gap: 45 s credited, the run broken
    results = lesson_heartbeats(
        member=member, lesson_id=lessons[0].pk, requirements=ANY_TIME, beats=_beats(dawn, steps)
    )
    assert [result.credited for result in results] == [0, 30, 29, 31, 32, 30, 0, 30, 30, 45, 30]
    study_day = StudyDay.objects.get(member=member, day=DAY)
    assert study_day.seconds == 287
    assert study_day.night_seconds == 30 + 29 + 31  # the beats before 05:00
    assert study_day.longest_run_seconds == 152
    assert study_day.longest_run_beats == 5
    assert study_day.longest_run_gap_spread_ms == 32_000 - 29_750
    # The clock holds the run still going: one credited beat since the long gap.
    clock = StudyClock.objects.get(member=member)
    assert (clock.run_seconds, clock.run_beats, clock.run_gap_min_ms) == (30, 1, 30_000)


def test_a_timers_run_has_no_spread(member, lessons):
    results = lesson_heartbeats(
        member=member,
        lesson_id=lessons[0].pk,
        requirements=ANY_TIME,
        beats=_day_of_beats(DAY, 9, 10),
    )
    assert sum(result.credited for result in results) == 3600 - 30
    study_day = StudyDay.objects.get(member=member, day=DAY)
    assert (study_day.longest_run_seconds, study_day.longest_run_beats) == (3570, 119)
    assert study_day.longest_run_gap_spread_ms == 0
    assert study_day.night_seconds == 0


def test_a_run_is_counted_per_local_day_and_ends_at_a_change_of_lesson(member, lessons):
    first, second = lessons
    late = datetime.datetime(2026, 12, 8, 23, 58, tzinfo=SHANGHAI)
    # 23:58:00 … 00:02:00 every 30 s on the first lesson, then it stops without closing.
    lesson_heartbeats(
        member=member,
        lesson_id=first.pk,
        requirements=ANY_TIME,
        beats=_beats(late, [(0, "open")] + [(30, "beat")] * 8),
    )
    # The second lesson takes the lapsed lease and runs for two beats.
    after = late + datetime.timedelta(seconds=240 + LEASE_SECONDS)
    lesson_heartbeats(
        member=member,
        lesson_id=second.pk,
        requirements=ANY_TIME,
        beats=_beats(after, [(0, "open"), (30, "beat"), (30, "beat")]),
    )
    days = {
        day.day: (day.seconds, day.night_seconds, day.longest_run_seconds, day.longest_run_beats)
        for day in StudyDay.objects.filter(member=member)
    }
    tomorrow = DAY + datetime.timedelta(days=1)
    assert days == {DAY: (90, 0, 90, 3), tomorrow: (210, 210, 150, 5)}


def test_heartbeats_answer_bad_bodies_with_400_and_never_500(script, member, lessons):
    first, second = lessons
    script.beat(0, first)
    bodies = [b"not json", b"[1, 2]", b"null", b'"text"', b'{"video_percent": "lots"}']
    bodies += [b'{"video_percent": [1]}', b'{"video_percent": {"a": 1}}']
    for t, body in enumerate(bodies, start=1):
        script.move(t)
        response = script.post(second, body)
        assert response.status_code == 400 and "error" in response.json(), body
    odd = [b"{}", b'{"visible": "yes", "active": [1]}', b'{"video_percent": 1e308}']
    odd += [b'{"video_percent": -7}', b'{"closing": {"x": 1}, "lesson": 1}']
    for t, body in enumerate(odd, start=len(bodies) + 1):
        script.move(t)
        assert script.post(second, body).status_code == 200, body
    # None of it moved the clock from the first lesson, which still earns its time.
    assert StudyClock.objects.get(member=member).lesson_id == first.pk
    assert script.beat(30, first)["credited"] == 30
    assert verified(member, second) == 0
