"""An upload of a question file in the admin: checked, previewed, then confirmed once.

The file's bytes are kept in the row (never under the web root) so the confirmed import
reads exactly what was previewed, in the web process or in a Celery worker.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from quizzes.models.bank import QuestionCategory


class QuestionImport(models.Model):
    """One upload → preview → confirm cycle of the admin import."""

    class Status(models.TextChoices):
        INVALID = "invalid", _("Has problems")
        CHECKED = "checked", _("Ready to import")
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=10)
    data = models.BinaryField(_("file content"), editable=False)
    category = models.ForeignKey(
        QuestionCategory,
        verbose_name=_("target category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    skip_duplicates = models.BooleanField(_("skip duplicates"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    question_count = models.PositiveIntegerField(_("questions"), default=0)
    preview = models.JSONField(_("preview"), default=list, editable=False)
    problems = models.JSONField(_("problems"), default=list, editable=False)
    result = models.JSONField(_("result"), default=dict, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("question import")
        verbose_name_plural = _("question imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
