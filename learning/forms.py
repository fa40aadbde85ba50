"""Member-facing forms: login by username or phone, password change."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _


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
