"""Authentication: members log in with their username or their mobile number."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from learning.models import Member


class UsernameOrPhoneBackend(ModelBackend):
    """Accept either the username or the 11-digit mobile number as the login name."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Member | None:
        if username is None:
            username = kwargs.get(Member.USERNAME_FIELD)
        if not username or password is None:
            return None
        login = username.strip()
        member = Member.objects.filter(username=login).first()
        if member is None and login.isdigit():
            member = Member.objects.filter(phone=login).first()
        if member is None:
            # Spend the same time as a real check, so timing does not reveal accounts.
            Member().set_password(password)
            return None
        if member.check_password(password) and self.user_can_authenticate(member):
            return member
        return None
