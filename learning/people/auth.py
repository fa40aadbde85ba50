"""Authentication: login by username or mobile number, lockout, and reset throttling.

Every login — the members' page, the Wagtail admin, and any API login to come — goes
through ``django.contrib.auth.authenticate(request, username=…, password=…)``. The
first backend (django-axes) refuses a locked-out account before any password is
checked; the functions here are the hooks axes is configured with (``AXES_*`` in
``config/settings/base.py``):

- failures count per account, not per typed string: the username and the mobile number
  of one member are one key (``login_account_key``);
- an account is locked from one client address after ``AXES_FAILURE_LIMIT`` failures,
  and from everywhere after ``DANGJIAN_LOGIN_ACCOUNT_FAILURE_LIMIT`` (``LoginAttemptHandler``);
- a locked login gets HTTP 429 with a message saying when to try again
  (``lockout_response``), and administrators can unlock it (``login_unlock``).

Password reset emails are throttled per account and per client address with counters
in Django's cache (Redis in production), see ``password_reset_allowed``.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import ngettext

from learning.common.throttle import throttle_count
from learning.models import Member
from learning.people import audit

logger = logging.getLogger(__name__)

# The longest name axes can store (AccessAttempt.username).
_MAX_KEY_LENGTH = 255


def member_for_login(login: str) -> Member | None:
    """The member a typed login name means: a username first, else a mobile number."""
    login = login.strip()
    if not login:
        return None
    member = Member.objects.filter(username=login).first()
    if member is None and login.isdigit():
        member = Member.objects.filter(phone=login).first()
    return member


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
        member = member_for_login(username)
        if member is None:
            # Spend the same time as a real check, so timing does not reveal accounts.
            Member().set_password(password)
            return None
        if member.check_password(password) and self.user_can_authenticate(member):
            return member
        return None


def login_account_key(request: HttpRequest | None, credentials: dict[str, Any] | None) -> Any:
    """The name axes counts a login under: the account's username when there is one.

    Typing the mobile number instead of the username must not give a second set of
    attempts, so both resolve to the account. A name that matches no account is
    counted as typed (stripped, as the backend reads it), so unknown and known names
    are locked alike and a lockout reveals nothing about which accounts exist.
    """
    typed: Any = None
    if credentials:
        typed = credentials.get("username")
    elif request is not None:
        typed = getattr(request, "data", request.POST).get("username")
    if typed is None:
        return None
    typed = str(typed).strip()[:_MAX_KEY_LENGTH]
    # axes asks several times per request; look the account up once.
    known: dict[str, str] = (
        request.__dict__.setdefault("_login_account_keys", {}) if request else {}
    )
    if typed not in known:
        member = member_for_login(typed)
        known[typed] = member.username if member else typed
    return known[typed]


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address, from X-Forwarded-For only as far as our own proxies wrote it.

    Each of the ``DANGJIAN_TRUSTED_PROXY_COUNT`` proxies in front of the web server appends
    the address it received the request from, so the client is that many entries from
    the right; anything further left was written by the client and could be anything.
    Without trusted proxies (the default) the header is ignored.
    """
    count = settings.DANGJIAN_TRUSTED_PROXY_COUNT
    if count > 0:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= count:
            address = _valid_ip(forwarded[-count])
            if address:
                return address
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def _failures(attempts: Any) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginAttemptHandler(AxesDatabaseHandler):
    """django-axes' database handler with a second, higher limit per account.

    axes compares one failure count with one limit. Failures of this account from this
    address count as they are; failures of the account from every address are scaled so
    that they reach ``AXES_FAILURE_LIMIT`` exactly when they reach
    ``DANGJIAN_LOGIN_ACCOUNT_FAILURE_LIMIT``. One guesser is stopped after a few tries;
    many addresses guessing one account are stopped too, while the colleagues behind
    the same office address keep logging in to their own accounts.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        recent = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        )
        from_here = _failures(recent.filter(ip_address=request.axes_ip_address))
        everywhere = _failures(recent)
        limit = get_failure_limit(request, credentials)
        account_limit = max(settings.DANGJIAN_LOGIN_ACCOUNT_FAILURE_LIMIT, 1)
        return max(from_here, everywhere * limit // account_limit)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        # A try while locked out is neither counted nor logged: otherwise anyone could
        # fill the audit log, and the lockout would never end.
        already_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or already_locked:
            return
        member = Member.objects.filter(username=get_client_username(request, credentials)).first()
        if member is None:
            return
        address = request.axes_ip_address
        audit.audit_record(instance=member, action=audit.LOGIN_FAILED, ip=address)
        if request.axes_locked_out:
            minutes = _minutes(get_cool_off(request) or datetime.timedelta(0))
            audit.audit_record(
                instance=member, action=audit.LOGIN_LOCKED_OUT, ip=address, minutes=minutes
            )
            logger.warning("Login of %s locked after repeated failures", member.username)

    def user_logged_in(self, sender: Any, request: Any, user: Member, **kwargs: Any) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        # Only this address's failures: a guesser elsewhere keeps what they have used up.
        AccessAttempt.objects.filter(
            username=user.get_username(), ip_address=request.axes_ip_address
        ).delete()


def _minutes(delta: datetime.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds() / 60))


def login_lockout_remaining(
    request: HttpRequest, credentials: dict[str, Any] | None = None
) -> datetime.timedelta:
    """How long the login ``request`` tried stays locked (at most; the last failure + cool-off)."""
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    AxesProxyHandler.update_request(request)
    username = get_client_username(request, credentials)
    latest = AccessAttempt.objects.filter(
        username=username, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(latest=Max("attempt_time"))["latest"]
    if latest is None:
        return cool_off
    return max(latest + cool_off - timezone.now(), datetime.timedelta(0))


def login_lockout_message(remaining: datetime.timedelta) -> str:
    """Tell a locked-out person when to try again, in whole minutes (rounded up)."""
    minutes = _minutes(remaining)
    return ngettext(
        "Too many failed logins: this account is locked for now. "
        "Please try again in %(minutes)d minute, or ask an administrator to unlock it.",
        "Too many failed logins: this account is locked for now. "
        "Please try again in %(minutes)d minutes, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The response to a locked-out login (``AXES_LOCKOUT_CALLABLE``): always HTTP 429.

    The login forms already show the message (``learning.forms``), so their page is
    kept with the status changed; an API login gets the project's JSON error shape.
    """
    remaining = login_lockout_remaining(request, credentials)
    message = login_lockout_message(remaining)
    seconds = max(1, math.ceil(remaining.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "login_locked_out", "detail": message, "retry_after": seconds}, status=429
        )
    elif original_response is not None and original_response.status_code == 200:
        response = original_response
        response.status_code = 429
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response


@dataclass
class LockedLogin:
    """Recent failed logins under one name, for the administrators' list."""

    username: str
    member: Member | None
    failures: int = 0
    addresses: set[str] = field(default_factory=set)
    last_attempt: datetime.datetime | None = None
    locked_until: datetime.datetime | None = None


def login_failures_recent() -> list[LockedLogin]:
    """Names with failed logins within the cool-off, locked ones first."""
    cool_off = settings.AXES_COOLOFF_TIME
    now = timezone.now()
    attempts = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off).order_by("username")
    by_name: dict[str, LockedLogin] = {}
    failures_from: dict[tuple[str, str | None], int] = {}
    for attempt in attempts:
        name = attempt.username or ""
        entry = by_name.setdefault(name, LockedLogin(username=name, member=None))
        entry.failures += attempt.failures_since_start
        if attempt.ip_address:
            entry.addresses.add(attempt.ip_address)
        if entry.last_attempt is None or attempt.attempt_time > entry.last_attempt:
            entry.last_attempt = attempt.attempt_time
        key = (name, attempt.ip_address)
        failures_from[key] = failures_from.get(key, 0) + attempt.failures_since_start
    members = {m.username: m for m in Member.objects.filter(username__in=list(by_name))}
    for name, entry in by_name.items():
        entry.member = members.get(name)
        locked_here = any(
            count >= settings.AXES_FAILURE_LIMIT
            for (key_name, _address), count in failures_from.items()
            if key_name == name
        )
        locked_everywhere = entry.failures >= settings.DANGJIAN_LOGIN_ACCOUNT_FAILURE_LIMIT
        if (locked_here or locked_everywhere) and entry.last_attempt is not None:
            entry.locked_until = entry.last_attempt + cool_off
    return sorted(
        by_name.values(),
        key=lambda entry: (entry.locked_until is None, entry.username),
    )


def login_unlock(*, username: str, by: Member) -> int:
    """Forget the failed logins under ``username`` (all addresses); returns how many rows."""
    count = AxesProxyHandler.reset_attempts(username=username)
    member = Member.objects.filter(username=username).first()
    if member is not None:
        audit.audit_record(instance=member, action=audit.LOGIN_UNLOCKED, user=by)
    logger.info("Login %r unlocked by %s (%d records)", username, by.username, count)
    return count


def password_reset_address_wait(request: HttpRequest) -> int | None:
    """Count a reset request from the client's address; seconds to wait if over the limit."""
    address = client_ip_address(request) or "unknown"
    count, seconds_left = throttle_count(
        scope="password-reset-address",
        key=address,
        window=settings.DANGJIAN_PASSWORD_RESET_WINDOW,
    )
    if count <= settings.DANGJIAN_PASSWORD_RESET_ADDRESS_LIMIT:
        return None
    if count == settings.DANGJIAN_PASSWORD_RESET_ADDRESS_LIMIT + 1:
        logger.warning("Password reset requests from %s throttled", address)
    return seconds_left


def password_reset_allowed(*, request: HttpRequest | None, member: Member) -> bool:
    """Count a reset email for ``member``; False (send nothing) when over the limit."""
    address = client_ip_address(request) if request is not None else None
    count, _seconds_left = throttle_count(
        scope="password-reset-account",
        key=str(member.pk),
        window=settings.DANGJIAN_PASSWORD_RESET_WINDOW,
    )
    limit = settings.DANGJIAN_PASSWORD_RESET_ACCOUNT_LIMIT
    if count <= limit:
        audit.audit_record(instance=member, action=audit.PASSWORD_RESET_SENT, ip=address)
        return True
    if count == limit + 1:
        # Once per window: repeated requests must not flood the audit log either.
        audit.audit_record(instance=member, action=audit.PASSWORD_RESET_THROTTLED, ip=address)
        logger.warning("Password reset emails for %s throttled", member.username)
    return False


def password_reset_wait_message(seconds: int) -> str:
    """Tell someone whose address sent too many reset requests when to try again."""
    minutes = _minutes(datetime.timedelta(seconds=seconds))
    return ngettext(
        "Too many password reset requests from your network: no email was sent. "
        "Please try again in %(minutes)d minute.",
        "Too many password reset requests from your network: no email was sent. "
        "Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
