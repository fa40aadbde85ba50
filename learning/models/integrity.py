"""Integrity flags: a sign that a score or a point may not measure learning, for review.

A flag names a member, what it is about (its *subject*: an attempt, a study day …, as a
stable key), the evidence in numbers a person can read, and its review: open until a
reviewer dismisses it (the held points are awarded) or confirms it (held points are
discarded, awarded ones reversed). ``learning.integrity`` raises and decides flags;
docs/integrity.md explains each kind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IntegrityFlag(models.Model):
    class Kind(models.TextChoices):
        TOO_FAST = "too_fast", _("Answered faster than the questions can be read")
        ACCURACY_JUMP = "accuracy_jump", _("Accuracy far above the member's own record")
        SHARED_ANSWERS = "shared_answers", _("The same answers as another member, in step")
        PARALLEL_ATTEMPTS = "parallel_attempts", _("Several attempts in progress at once")
        REGULAR_BEATS = "regular_beats", _("Hours of study at machine-regular intervals")
        NIGHT_STUDY = "night_study", _("Study through the night on many days")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        DISMISSED = "dismissed", _("Dismissed: the study is genuine")
        CONFIRMED = "confirmed", _("Confirmed: not counted")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="integrity_flags",
    )
    organization = models.ForeignKey(
        "learning.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        help_text=_("The member's organisation when the flag was raised."),
    )
    # "quizzes.attempt:42", "study-day:2026-12-07": one flag of a kind per subject.
    subject_key = models.CharField(max_length=100)
    subject_label = models.CharField(_("about"), max_length=300)
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("reason"), blank=True, max_length=1000)

    class Meta:
        verbose_name = _("integrity flag")
        verbose_name_plural = _("integrity flags")
        ordering = ["-raised_at", "-pk"]
        permissions = [("review_integrityflag", _("Can review integrity flags"))]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "subject_key"], name="integrity_flag_once_per_subject"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-raised_at"], name="integrity_flag_queue"),
            models.Index(fields=["subject_key"], name="integrity_flag_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.member} · {self.subject_label}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
