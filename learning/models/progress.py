"""Verified study: lesson progress per member, and the clock that keeps it honest.

Lessons are Wagtail pages (in ``cms``); ``learning`` refers to them as
``wagtailcore.Page`` so it never imports ``cms``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from learning.models.organisations import Member


class LessonProgress(models.Model):
    """How far one member has studied one lesson."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("lesson"), on_delete=models.CASCADE, related_name="+"
    )
    first_opened_at = models.DateTimeField(_("first opened"))
    last_studied_at = models.DateTimeField(_("last studied"), null=True, blank=True)
    verified_seconds = models.PositiveIntegerField(_("verified study seconds"), default=0)
    reached_end = models.BooleanField(_("read to the end"), default=False)
    video_percent = models.PositiveSmallIntegerField(_("video watched (%)"), default=0)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(fields=["member", "lesson"], name="lesson_progress_unique")
        ]
        indexes = [models.Index(fields=["member", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.lesson_id}: {self.verified_seconds}s"


class StudyClock(models.Model):
    """The member's last accepted heartbeat: time is credited once, to one lesson.

    ``lesson`` holds the lease (``learning.study.progress.LEASE_SECONDS``): while its last
    beat is recent, beats for other lessons are ignored. The ``run_`` fields accumulate the
    current run of credited beats on the local day of ``last_beat_at``, from which the
    day's longest run on ``StudyDay`` is kept.
    """

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="study_clock"
    )
    lesson = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_beat_at = models.DateTimeField(null=True, blank=True)
    # The current run: credited seconds, credited beats, and the shortest and longest
    # interval (milliseconds) between the accepted beats that earned them.
    run_seconds = models.PositiveIntegerField(default=0)
    run_beats = models.PositiveIntegerField(default=0)
    run_gap_min_ms = models.PositiveIntegerField(default=0)
    run_gap_max_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.lesson_id} {self.last_beat_at}"


class StudyDay(models.Model):
    """Verified study seconds of one member on one local day, and study-time awards made.

    The pattern numbers are recorded for a later check of machine-like study (nothing
    refuses or shows them): ``night_seconds``, the credited seconds whose heartbeat fell
    between 00:00 and 05:00 local time; ``longest_run_seconds``, the day's longest
    uninterrupted run of credited heartbeats, with its number of credited beats and
    ``longest_run_gap_spread_ms``, its longest minus its shortest interval between beats
    (a person's beats wander, a timer's do not).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="study_days")
    day = models.DateField()
    seconds = models.PositiveIntegerField(default=0)
    blocks_awarded = models.PositiveIntegerField(default=0)
    night_seconds = models.PositiveIntegerField(default=0)
    longest_run_seconds = models.PositiveIntegerField(default=0)
    longest_run_beats = models.PositiveIntegerField(default=0)
    longest_run_gap_spread_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="study_day_unique")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}: {self.seconds}s"
