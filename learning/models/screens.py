"""Office screens: wall displays that show a subtree's rankings from a secret link."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from learning.common.periods import Period
from learning.common.text import validate_text
from learning.models.organisations import Organization
from learning.models.points import LeaderboardSettings


def new_screen_token() -> str:
    """A long random secret for a screen's link (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class Screen(models.Model):
    """A kiosk page for one organisation subtree, opened by a secret link without login."""

    class Theme(models.TextChoices):
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    name = models.CharField(
        _("name"), max_length=100, help_text=_("e.g. 三楼大厅屏幕"), validators=[validate_text]
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="screens",
        help_text=_("The screen shows this organisation and everything below it."),
    )
    token = models.CharField(max_length=64, unique=True, default=new_screen_token, editable=False)
    is_active = models.BooleanField(
        _("link active"),
        default=True,
        help_text=_("Switch off to revoke the link: the screen stops showing data."),
    )
    period = models.CharField(
        _("period"), max_length=8, choices=Period.choices, default=Period.WEEK
    )
    metric = models.CharField(
        _("ranking metric"),
        max_length=20,
        choices=LeaderboardSettings.Metric.choices,
        default=LeaderboardSettings.Metric.PER_MEMBER,
    )
    show_branch_ranking = models.BooleanField(_("show branch ranking"), default=True)
    show_top_members = models.BooleanField(_("show top members"), default=True)
    show_today = models.BooleanField(_("show today's figures"), default=True)
    show_activity = models.BooleanField(_("show recent activity"), default=True)
    show_member_names = models.BooleanField(
        _("show member names"),
        default=True,
        help_text=_("Names appear only if this is on and no organisation involved hides names."),
    )
    theme = models.CharField(_("theme"), max_length=10, choices=Theme.choices, default=Theme.DARK)
    refresh_seconds = models.PositiveIntegerField(
        _("refresh every (seconds)"),
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("office screen")
        verbose_name_plural = _("office screens")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("screen", kwargs={"token": self.token})
