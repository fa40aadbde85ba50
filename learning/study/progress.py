"""Verified study time: heartbeats from an open lesson become credited seconds.

The lesson page sends a heartbeat about every 30 seconds while the tab is visible and
the member has touched, scrolled or typed recently, and a closing one when it is hidden.
The server trusts none of the client's timing: it credits the wall-clock time since the
member's previous accepted heartbeat (its own clock, never one the client sends), only
when that heartbeat was for the same lesson, at most ``MAX_CREDIT`` per heartbeat, never
more than the lesson's cap, and never more than the daily ceiling
(``DANGJIAN_STUDY_DAILY_CEILING_MINUTES``) in a local day. So:

- a script that posts faster gains nothing: beats less than ``MIN_BEAT_SECONDS`` after
  the last accepted one are ignored (except the one that opens a run after a closed one,
  which credits nothing itself), and what is credited never exceeds the time elapsed;
- a member studies one lesson at a time, on all tabs and devices together: the lesson of
  the member's clock holds a lease while its last accepted beat is younger than
  ``LEASE_SECONDS``, and beats for any other lesson are ignored meanwhile (they neither
  earn nor move the clock), so two lessons open at once earn one lesson's time. A closing,
  hidden or idle beat releases the lease at once, so moving to another lesson loses
  nothing; a lease that lapsed (a phone killed mid-lesson) is taken over by the next
  beat of any lesson, which starts a new run and earns nothing itself.

Each credited beat also updates the day's pattern numbers on ``StudyDay`` (night
seconds, the longest run of credited beats and the spread of its intervals), from the
current run kept on ``StudyClock``; they refuse nothing, a later check reads them.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from learning.models import (
    LessonProgress,
    Member,
    MemberRuleDayPoints,
    PointsRule,
    StudyClock,
    StudyDay,
)
from learning.points.ledger import LOCAL_TIME_ZONE, points_award

# Heartbeats closer together than this are ignored (the page sends one every 30 s).
MIN_BEAT_SECONDS = 10
# At most this much time is credited for one heartbeat, however long the gap.
MAX_CREDIT = 45
# The lesson of the member's clock keeps it this long after its last accepted beat (two
# missed 30 s beats): until then beats for other lessons are ignored.
LEASE_SECONDS = 60
# Credited seconds of a beat before this local hour (from midnight) are night study.
NIGHT_END_HOUR = 5
# Every this many verified seconds in a day earn one unit of the study_time rule.
STUDY_BLOCK_SECONDS = 300
VIDEO_DONE_PERCENT = 90

_MILLISECOND = datetime.timedelta(milliseconds=1)
# What a heartbeat writes back: the clock with its current run, the study days.
_CLOCK_FIELDS = (
    "last_beat_at",
    "lesson",
    "run_seconds",
    "run_beats",
    "run_gap_min_ms",
    "run_gap_max_ms",
)
_STUDY_DAY_FIELDS = (
    "seconds",
    "blocks_awarded",
    "night_seconds",
    "longest_run_seconds",
    "longest_run_beats",
    "longest_run_gap_spread_ms",
)


@dataclass(frozen=True)
class LessonRequirements:
    """What completing a lesson takes, decided by the page that owns the lesson."""

    min_seconds: int
    cap_seconds: int
    course_id: int | None = None
    course_lesson_ids: Sequence[int] = ()
    course_points: int = 0


@dataclass(frozen=True)
class HeartbeatResult:
    credited: int
    progress: LessonProgress
    completed_now: bool
    course_completed_now: bool


@dataclass(frozen=True)
class Heartbeat:
    """One heartbeat as the lesson page sends it, at the server's time ``at``."""

    at: datetime.datetime
    visible: bool
    active: bool
    reached_end: bool = False
    video_percent: int | None = None
    closing: bool = False

    @property
    def opens(self) -> bool:
        """The page is in use and stays open: this beat holds (or takes) the clock."""
        return self.visible and self.active and not self.closing


def lesson_heartbeat(
    *,
    member: Member,
    lesson_id: int,
    requirements: LessonRequirements,
    visible: bool,
    active: bool,
    reached_end: bool = False,
    video_percent: int | None = None,
    closing: bool = False,
    now: datetime.datetime | None = None,
) -> HeartbeatResult:
    """Record one heartbeat from an open lesson and credit the time it proves.

    ``closing`` is the last heartbeat before the page is hidden or left: it is credited
    like any other, then ends the run and releases the lease, so the time away is never
    counted and another lesson may start at once.
    """
    beat = Heartbeat(
        at=now or timezone.now(),
        visible=visible,
        active=active,
        reached_end=reached_end,
        video_percent=video_percent,
        closing=closing,
    )
    return lesson_heartbeats(
        member=member, lesson_id=lesson_id, requirements=requirements, beats=[beat]
    )[0]


def lesson_heartbeats(
    *,
    member: Member,
    lesson_id: int,
    requirements: LessonRequirements,
    beats: Sequence[Heartbeat],
) -> list[HeartbeatResult]:
    """Record heartbeats of one lesson in time order, each exactly as if sent alone.

    One transaction reads and writes the member's clock, the lesson's progress and the
    study days once, however many beats there are (the demo replays whole readings this
    way). Every result's ``progress`` is the lesson's progress after the last beat.
    """
    if not beats:
        return []
    with transaction.atomic():
        clock, _created = StudyClock.objects.select_for_update().get_or_create(member=member)
        progress, _created = LessonProgress.objects.select_for_update().get_or_create(
            member=member, lesson_id=lesson_id, defaults={"first_opened_at": beats[0].at}
        )
        study_days = _StudyDays(member, settings.DANGJIAN_STUDY_DAILY_CEILING_MINUTES * 60)
        clock_changed = False
        results = []
        for beat in beats:
            credit = _beat_credit(clock, progress, requirements, beat, lesson_id, study_days)
            credited = credit.seconds
            progress.verified_seconds += credited
            if credited:
                progress.last_studied_at = beat.at
            progress.reached_end = progress.reached_end or beat.reached_end
            if beat.video_percent is not None:
                percent = min(100, max(0, beat.video_percent))
                progress.video_percent = max(progress.video_percent, percent)
            completed_now = _complete_if_done(progress, requirements, beat.at)
            if credited:
                study_days.credit(beat.at, credited)
            if credit.accepted:
                _clock_move(clock, study_days, beat, lesson_id, credit)
                clock_changed = True
            course_completed_now = False
            if completed_now:
                progress.save()  # the course counts the completions saved
                course_completed_now = _complete_course_if_done(member, requirements, beat.at)
            results.append(
                HeartbeatResult(
                    credited=credited,
                    progress=progress,
                    completed_now=completed_now,
                    course_completed_now=course_completed_now,
                )
            )
        if clock_changed:
            clock.save(update_fields=_CLOCK_FIELDS)
        progress.save()
        study_days.save()
    return results


@dataclass(frozen=True)
class _Credit:
    """What one beat proves: seconds credited, and whether it moves the member's clock."""

    seconds: int
    accepted: bool
    gap: datetime.timedelta | None = None  # since the previous accepted beat


_IGNORED = _Credit(seconds=0, accepted=False)


def _beat_credit(
    clock: StudyClock,
    progress: LessonProgress,
    requirements: LessonRequirements,
    beat: Heartbeat,
    lesson_id: int,
    study_days: _StudyDays,
) -> _Credit:
    """Seconds ``beat`` proves, and whether it was accepted (the clock is not moved here)."""
    gap = beat.at - clock.last_beat_at if clock.last_beat_at else None
    seconds = gap.total_seconds() if gap is not None else None
    if seconds is not None:
        holder = clock.lesson_id
        if holder is not None and holder != lesson_id and seconds < LEASE_SECONDS:
            return _IGNORED  # another lesson holds the lease (a beat older than its last, too)
        if 0 <= seconds < MIN_BEAT_SECONDS and not (holder is None and beat.opens):
            return _IGNORED  # a burst
    credited = 0
    same_run = seconds is not None and seconds >= 0 and clock.lesson_id == lesson_id
    if beat.visible and beat.active and same_run:
        room = max(0, requirements.cap_seconds - progress.verified_seconds)
        credited = int(min(seconds, MAX_CREDIT, room))
        if credited:
            credited = min(credited, study_days.room(beat.at))
    return _Credit(seconds=credited, accepted=True, gap=gap)


def _clock_move(
    clock: StudyClock,
    study_days: _StudyDays,
    beat: Heartbeat,
    lesson_id: int,
    credit: _Credit,
) -> None:
    """Move the clock to an accepted ``beat``, continuing or ending the current run.

    A credited beat at most ``MAX_CREDIT`` after the previous one, on the same local
    day, continues the run (the first one after midnight starts the new day's); anything
    else (nothing credited, a longer gap, a change of lesson) ends it, and so does a
    closing, hidden or idle beat after it is counted.
    """
    previous, gap = clock.last_beat_at, credit.gap
    if not (credit.seconds > 0 and previous and gap and gap.total_seconds() <= MAX_CREDIT):
        _run_reset(clock)
    else:
        if _local_day(previous) != _local_day(beat.at):
            _run_reset(clock)
        interval_ms = gap // _MILLISECOND
        if clock.run_beats == 0:
            clock.run_gap_min_ms = clock.run_gap_max_ms = interval_ms
        clock.run_gap_min_ms = min(clock.run_gap_min_ms, interval_ms)
        clock.run_gap_max_ms = max(clock.run_gap_max_ms, interval_ms)
        clock.run_seconds += credit.seconds
        clock.run_beats += 1
        study_days.run_record(beat.at, clock)
    if not beat.opens:
        _run_reset(clock)
    clock.last_beat_at = beat.at
    clock.lesson_id = lesson_id if beat.opens else None


def _run_reset(clock: StudyClock) -> None:
    clock.run_seconds = clock.run_beats = 0
    clock.run_gap_min_ms = clock.run_gap_max_ms = 0


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment, timezone=LOCAL_TIME_ZONE)


def _complete_if_done(
    progress: LessonProgress, requirements: LessonRequirements, now: datetime.datetime
) -> bool:
    if progress.completed_at is not None:
        return False
    if progress.verified_seconds < requirements.min_seconds:
        return False
    if not (progress.reached_end or progress.video_percent >= VIDEO_DONE_PERCENT):
        return False
    progress.completed_at = now
    points_award(
        member=progress.member,
        rule_code="lesson_completed",
        key=f"lesson_completed:{progress.member_id}:{progress.lesson_id}",
        occurred_at=now,
    )
    return True


def _complete_course_if_done(
    member: Member, requirements: LessonRequirements, now: datetime.datetime
) -> bool:
    lesson_ids = list(requirements.course_lesson_ids)
    if requirements.course_id is None or not lesson_ids:
        return False
    done = LessonProgress.objects.filter(
        member=member, lesson_id__in=lesson_ids, completed_at__isnull=False
    ).count()
    if done < len(lesson_ids) or requirements.course_points <= 0:
        return False
    result = points_award(
        member=member,
        rule_code="course_completed",
        key=f"course_completed:{member.pk}:{requirements.course_id}",
        quantity=requirements.course_points,
        occurred_at=now,
    )
    return result.created


class _StudyDays:
    """A member's study days touched by a run of heartbeats: each read (and locked) once,
    its ``study_time`` blocks awarded as they fill, its pattern numbers kept, all written
    back by ``save``. ``ceiling`` is the most seconds a day may be credited."""

    def __init__(self, member: Member, ceiling: int) -> None:
        self.member = member
        self.ceiling = ceiling
        self.days: dict[datetime.date, StudyDay] = {}

    def _day(self, now: datetime.datetime) -> StudyDay:
        day = _local_day(now)
        study_day = self.days.get(day)
        if study_day is None:
            study_day, _created = StudyDay.objects.select_for_update().get_or_create(
                member=self.member, day=day
            )
            self.days[day] = study_day
        return study_day

    def room(self, now: datetime.datetime) -> int:
        """Seconds the day of ``now`` may still be credited under the daily ceiling."""
        return max(0, self.ceiling - self._day(now).seconds)

    def credit(self, now: datetime.datetime, seconds: int) -> None:
        study_day = self._day(now)
        day = study_day.day
        study_day.seconds += seconds
        if timezone.localtime(now, timezone=LOCAL_TIME_ZONE).hour < NIGHT_END_HOUR:
            study_day.night_seconds += seconds
        blocks = study_day.seconds // STUDY_BLOCK_SECONDS
        for block in range(study_day.blocks_awarded + 1, blocks + 1):
            points_award(
                member=self.member,
                rule_code="study_time",
                key=f"study_time:{self.member.pk}:{day.isoformat()}:{block}",
                occurred_at=now,
            )
        study_day.blocks_awarded = max(study_day.blocks_awarded, blocks)

    def run_record(self, now: datetime.datetime, clock: StudyClock) -> None:
        """Keep the clock's current run as the day's longest when it is the longest yet."""
        study_day = self._day(now)
        if clock.run_seconds > study_day.longest_run_seconds:
            study_day.longest_run_seconds = clock.run_seconds
            study_day.longest_run_beats = clock.run_beats
            study_day.longest_run_gap_spread_ms = clock.run_gap_max_ms - clock.run_gap_min_ms

    def save(self) -> None:
        for study_day in self.days.values():
            study_day.save(update_fields=_STUDY_DAY_FIELDS)


@dataclass(frozen=True)
class StudyTimeToday:
    """A member's verified study time on one day, against the study-time rule."""

    seconds: int
    capped: bool  # the rule's daily cap is reached: more study earns no study-time points

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def minutes_to_next_point(self) -> int:
        """Whole minutes until the next block is complete, rounded up (never 0)."""
        left = STUDY_BLOCK_SECONDS - self.seconds % STUDY_BLOCK_SECONDS
        return math.ceil(left / 60)


def study_time_today(*, member: Member, day: datetime.date) -> StudyTimeToday:
    """Verified seconds on ``day`` (``StudyDay``, what earns ``study_time``) and the cap."""
    seconds = (
        StudyDay.objects.filter(member=member, day=day).values_list("seconds", flat=True).first()
    )
    rule = PointsRule.objects.filter(code="study_time").only("daily_cap").first()
    capped = False
    if rule is not None and rule.daily_cap is not None:
        points = (
            MemberRuleDayPoints.objects.filter(member=member, rule=rule, day=day)
            .values_list("points", flat=True)
            .first()
        )
        capped = (points or 0) >= rule.daily_cap
    return StudyTimeToday(seconds=seconds or 0, capped=capped)
