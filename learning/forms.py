"""Member-facing forms: login, password change, points history and leaderboard filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from learning.models import LeaderboardSettings, Organization, PointsRule
from learning.periods import Period


class LoginForm(AuthenticationForm):
    """The login form; the name field takes a username or a mobile number."""

    username = forms.CharField(
        label=_("Username or mobile number"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        "invalid_login": _(
            "The username/mobile number or password is not correct. "
            "Both are case-sensitive; please try again."
        ),
        "inactive": _("This account has been deactivated. Please contact your secretary."),
    }


class MemberPasswordChangeForm(PasswordChangeForm):
    """Django's password change; the service clears the forced-change flag."""


class PointsHistoryFilterForm(forms.Form):
    """Filters for a member's own points history; every field is optional."""

    rule = forms.ModelChoiceField(
        label=_("Rule"),
        queryset=PointsRule.objects.order_by("sort_order", "code"),
        required=False,
        empty_label=_("All rules"),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        return cleaned


MAX_CUSTOM_RANGE_DAYS = 366


class LeaderboardForm(forms.Form):
    """Which ranking to show: period, metric and the organisation whose branches compete."""

    period = forms.ChoiceField(
        label=_("Period"), choices=Period.choices, initial=Period.WEEK, required=False
    )
    metric = forms.ChoiceField(
        label=_("Ranking by"),
        choices=LeaderboardSettings.Metric.choices,
        initial=LeaderboardSettings.Metric.PER_MEMBER,
        required=False,
    )
    scope = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organization.objects.none(), required=False
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if bool(start) != bool(end):
            raise forms.ValidationError(_("Give both dates for a custom range, or neither."))
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if start and end and (end - start).days >= MAX_CUSTOM_RANGE_DAYS:
            raise forms.ValidationError(
                _("A custom range can be at most %(days)d days; use a year or all time.")
                % {"days": MAX_CUSTOM_RANGE_DAYS}
            )
        return cleaned

    def __init__(self, *args: Any, scopes: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scope"]
        field.queryset = Organization.objects.filter(pk__in=[o.pk for o in scopes])  # type: ignore[attr-defined]
        field.empty_label = None  # type: ignore[attr-defined]
