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
    """The member's last accepted heartbeat: time is credited once, to one lesson."""

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="study_clock"
    )
    lesson = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_beat_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.lesson_id} {self.last_beat_at}"


class StudyDay(models.Model):
    """Verified study seconds of one member on one local day, and study-time awards made."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="study_days")
    day = models.DateField()
    seconds = models.PositiveIntegerField(default=0)
    blocks_awarded = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="study_day_unique")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}: {self.seconds}s"
