"""Verified study time: heartbeats from an open lesson become credited seconds.

The lesson page sends a heartbeat about every 30 seconds while the tab is visible and
the member has touched, scrolled or typed recently. The server trusts none of the
client's timing: it credits the wall-clock time since the member's previous accepted
heartbeat, only when that heartbeat was for the same lesson, at most ``MAX_CREDIT``
per heartbeat, and never more than the lesson's cap. So a script that posts faster
gains nothing (bursts are ignored), two lessons open at once earn nothing (each
heartbeat breaks the other's run), and a forged timestamp has nowhere to go.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

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
# Every this many verified seconds in a day earn one unit of the study_time rule.
STUDY_BLOCK_SECONDS = 300
VIDEO_DONE_PERCENT = 90


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
    like any other, then ends the run, so the time away is never counted.
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
        study_days = _StudyDays(member)
        clock_changed = False
        results = []
        for beat in beats:
            credited, accepted = _beat_credit(clock, progress, requirements, beat, lesson_id)
            clock_changed = clock_changed or accepted
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
            clock.save(update_fields=["last_beat_at", "lesson"])
        progress.save()
        study_days.save()
    return results


def _beat_credit(
    clock: StudyClock,
    progress: LessonProgress,
    requirements: LessonRequirements,
    beat: Heartbeat,
    lesson_id: int,
) -> tuple[int, bool]:
    """Seconds ``beat`` proves, and whether it was accepted (moving the member's clock)."""
    gap = (beat.at - clock.last_beat_at).total_seconds() if clock.last_beat_at else None
    if gap is not None and 0 <= gap < MIN_BEAT_SECONDS:
        return 0, False  # a burst: ignored
    credited = 0
    same_run = gap is not None and gap >= 0 and clock.lesson_id == lesson_id
    if beat.visible and beat.active and same_run:
        room = max(0, requirements.cap_seconds - progress.verified_seconds)
        credited = int(min(gap, MAX_CREDIT, room))
    clock.last_beat_at = beat.at
    clock.lesson_id = lesson_id if beat.visible and beat.active and not beat.closing else None
    return credited, True


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
    its ``study_time`` blocks awarded as they fill, all written back by ``save``."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.days: dict[datetime.date, StudyDay] = {}

    def credit(self, now: datetime.datetime, seconds: int) -> None:
        day = timezone.localdate(now, timezone=LOCAL_TIME_ZONE)
        study_day = self.days.get(day)
        if study_day is None:
            study_day, _created = StudyDay.objects.select_for_update().get_or_create(
                member=self.member, day=day
            )
            self.days[day] = study_day
        study_day.seconds += seconds
        blocks = study_day.seconds // STUDY_BLOCK_SECONDS
        for block in range(study_day.blocks_awarded + 1, blocks + 1):
            points_award(
                member=self.member,
                rule_code="study_time",
                key=f"study_time:{self.member.pk}:{day.isoformat()}:{block}",
                occurred_at=now,
            )
        study_day.blocks_awarded = max(study_day.blocks_awarded, blocks)

    def save(self) -> None:
        for study_day in self.days.values():
            study_day.save(update_fields=["seconds", "blocks_awarded"])


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
