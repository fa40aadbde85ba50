"""Background jobs that could not be handed to the queue, kept until they can be."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnsentTask(models.Model):
    """A Celery task whose message the broker did not accept (docs/operations.md).

    Written by ``learning.common.enqueue`` after the publisher's own retries failed, so a
    broker outage or a broken installation loses no search update, statistic or import:
    the beat job ``learning.send_unsent_tasks`` sends each row again and deletes it once
    the broker takes it, and the admin home shows administrators how many are waiting.
    """

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("positional arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("first failure"), auto_now_add=True)
    last_tried_at = models.DateTimeField(_("last attempt"), auto_now=True)
    attempts = models.PositiveIntegerField(_("tries"), default=1)
    error = models.CharField(_("last error"), max_length=500)

    class Meta:
        verbose_name = _("unsent background task")
        verbose_name_plural = _("unsent background tasks")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.created_at:%Y-%m-%d %H:%M})"
