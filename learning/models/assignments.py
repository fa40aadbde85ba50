"""Assigned study: a course or a lesson that organisations' members are asked to complete.

The assigned content is a Wagtail page (a course or a lesson in ``cms``); like lesson
progress, ``learning`` refers to it as ``wagtailcore.Page`` so it never imports ``cms``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learning.common.text import validate_text
from learning.models.organisations import Member, Organization


class Assignment(models.Model):
    """指派学习: members of the target subtrees should complete ``page`` by ``due_date``.

    A member is targeted while their current organisation lies in the subtree of any of
    ``organizations``. Completion is read from lesson progress (see ``learning.study.assignments``).
    """

    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("course or lesson"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    organizations = models.ManyToManyField(
        Organization,
        verbose_name=_("organisations"),
        related_name="assignments",
        help_text=_("Members of these organisations and of every organisation below them."),
    )
    title = models.CharField(
        _("title"),
        max_length=120,
        validators=[validate_text],
        blank=True,
        help_text=_("Leave empty to use the title of the course or lesson."),
    )
    note = models.TextField(_("note"), max_length=1000, blank=True, validators=[validate_text])
    start_date = models.DateField(_("start date"))
    due_date = models.DateField(_("due date"), help_text=_("The last day to complete it."))
    is_required = models.BooleanField(
        pgettext_lazy("assignment", "required"),
        default=True,
        help_text=_("Optional study is suggested to members but not counted as overdue."),
    )
    created_by = models.ForeignKey(
        Member,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("study assignment")
        verbose_name_plural = _("study assignments")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lte=F("due_date")),
                name="assignment_starts_before_due",
            )
        ]
        indexes = [models.Index(fields=["start_date", "due_date"])]
        permissions = [
            (
                "assign_any_organization",
                _("Can assign study to any organisation"),
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        """The title members see: the assignment's own, or the course or lesson title."""
        if self.title:
            return self.title
        if self.page_id is None:
            return ""
        return self.page.title

    def clean(self) -> None:
        super().clean()
        if self.start_date and self.due_date and self.start_date > self.due_date:
            raise ValidationError({"due_date": _("The due date cannot be before the start date.")})
