"""Member-facing forms: login, password change and reset, points and leaderboard filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm
from wagtail.admin.forms.auth import PasswordResetForm as WagtailPasswordResetForm

from learning.common.periods import Period
from learning.models import LeaderboardSettings, Member, Organization, PointsRule
from learning.people.auth import (
    login_lockout_message,
    login_lockout_remaining,
    password_reset_address_wait,
    password_reset_allowed,
    password_reset_wait_message,
)


class LockoutMessageMixin:
    """A locked-out login says when to try again instead of "wrong password".

    The lockout itself is django-axes' (``learning.people.auth``): it refuses the login before
    any password is checked, even the right one, and flags the request.
    """

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            if self.request is None or not getattr(self.request, "axes_locked_out", False):
                raise
            credentials = {"username": self.cleaned_data.get("username")}
            remaining = login_lockout_remaining(self.request, credentials)
            raise forms.ValidationError(
                login_lockout_message(remaining), code="locked_out"
            ) from None


class LoginForm(LockoutMessageMixin, AuthenticationForm):
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


class AdminLoginForm(LockoutMessageMixin, WagtailLoginForm):
    """Wagtail's admin login (``WAGTAILADMIN_USER_LOGIN_FORM``), with the lockout message."""


class ThrottledPasswordResetForm(WagtailPasswordResetForm):
    """Wagtail's "forgot password" form (``WAGTAILADMIN_USER_PASSWORD_RESET_FORM``), throttled.

    Too many requests from one address send nothing and say when to try again; too many
    for one account send nothing and say nothing, so the answer never tells whether an
    address belongs to an account.
    """

    def save(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        self._request = request
        if request is not None:
            wait = password_reset_address_wait(request)
            if wait is not None:
                messages.warning(request, password_reset_wait_message(wait))
                return
        super().save(*args, request=request, **kwargs)

    def get_users(self, email: str) -> Iterator[Member]:
        request = getattr(self, "_request", None)
        for member in super().get_users(email):
            if password_reset_allowed(request=request, member=member):
                yield member


class MemberPasswordChangeForm(PasswordChangeForm):
    """Django's password change; the service clears the forced-change flag.

    The new password must differ from the current one: a temporary password chosen by
    someone else (an import, a secretary) must not simply be kept.
    """

    def clean_new_password1(self) -> str:
        password = self.cleaned_data.get("new_password1") or ""
        if password and self.user.check_password(password):
            raise forms.ValidationError(
                _("Choose a password different from your current one."), code="password_unchanged"
            )
        return password


class DateRangeForm(forms.Form):
    """Two optional dates, from and to; the end may not be before the start."""

    date_from = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        return cleaned


class PointsHistoryFilterForm(DateRangeForm):
    """Filters for a member's own points history; every field is optional."""

    field_order = ("rule", "date_from", "date_to")

    rule = forms.ModelChoiceField(
        label=_("Rule"),
        queryset=PointsRule.objects.order_by("sort_order", "code"),
        required=False,
        empty_label=_("All rules"),
    )


MAX_CUSTOM_RANGE_DAYS = 366


class LeaderboardForm(DateRangeForm):
    """Which ranking to show: period, metric and the organisation whose branches compete."""

    field_order = ("period", "metric", "scope", "date_from", "date_to")

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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if bool(start) != bool(end):
            raise forms.ValidationError(_("Give both dates for a custom range, or neither."))
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
